"""Inputs: where they come from (sources), which format they are in (detect), and the readers.

- `sources`: `expand_paths` (files, folders walked with globs, `-`), `read_input` / `read_stream`
  (bytes within a size cap, gzip inflated in bounded steps), `output_over_input`.
- `detect`: `detect_format` (extension, else content), `format_from_name`, `sniff_format`.
- `htmlpage`: `html_text` (visible text mapped to the HTML source) and `remap` (parse locations
  moved from the extracted text to the source).
- `records`: `csv_records` and `json_records` (records with their file lines, plus findings).

`checker.api.check_input` runs one input through them; each function works on one input, so a
caller may run inputs in any order or in parallel.
"""
