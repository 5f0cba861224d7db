"""The browser app (Mesa SolaraViz): the page and its packaged assets."""
