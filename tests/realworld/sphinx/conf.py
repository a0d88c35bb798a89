# The Sphinx + furo site tests/realworld.rs builds: search, a static image, code.
project = "assetc realworld"
html_theme = "furo"
html_static_path = ["_static"]
html_logo = "_static/logo.svg"
