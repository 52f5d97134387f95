"""Inputs: where they come from (sources), which format they are in (detect), and the readers.

- `sources`: `expand_paths` (files, folders walked with globs and .gitignore, `-`; special files
  named, never opened), `read_input` / `read_stream` (regular files only, opened without blocking,
  bytes within a size cap, gzip inflated in bounded steps), `output_over_input` and
  `output_over_walked_input` (a report that would overwrite an input).
- `detect`: `detect_format` (extension, else content), `format_from_name`, `sniff_format`,
  `is_own_report` (a report quotecheck wrote), `foreign_reason` (plainly not a quote file).
- `htmlpage`: `html_text` (visible text mapped to the HTML source) and `remap` (parse locations
  moved from the extracted text to the source).
- `records`: `csv_records` and `json_records` (records with their file lines, plus findings).

`checker.api.check_input` runs one input through them; each function works on one input, so a
caller may run inputs in any order or in parallel.
"""
