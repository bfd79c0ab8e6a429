"""The web app in WebKitGTK, through WebKitWebDriver."""
