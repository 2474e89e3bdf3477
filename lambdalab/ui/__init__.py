"""The Textual app: the course map, lesson screens and the live lab. Only this package imports Textual."""
