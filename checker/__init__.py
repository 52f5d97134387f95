"""quotecheck: data-quality and consistency checks for market quotes scraped from news pages."""

__version__ = "0.1.0"
