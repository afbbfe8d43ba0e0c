"""The PySide6 editor: main window, canvas, panels (views of the graph model)."""
