package main

// version is Tumble's version, set at link time by make package-linux and
// make package-android from FyneApp.toml (-X main.version=...).
var version = "dev"
