"""The playground's Python (in the page's Web Worker): filled in below."""
