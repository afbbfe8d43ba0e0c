"""The node canvas: a QGraphicsScene that mirrors a graph, and its view."""
