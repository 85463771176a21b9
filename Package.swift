// swift-tools-version:6.0
import PackageDescription

// The library product becomes libopstatus.so. The Makefile adds the flags
// that make it self-contained: -static-stdlib, the soname and a version
// script that exports only the opstatus_* symbols.
let package = Package(
  name: "opstatus",
  products: [
    .library(name: "opstatus", type: .dynamic, targets: ["OpStatus"])
  ],
  targets: [
    .systemLibrary(
      name: "CJansson",
      path: "Sources/CJansson",
      pkgConfig: "jansson",
      providers: [.apt(["libjansson-dev"])]
    ),
    .systemLibrary(
      name: "CCurl",
      path: "Sources/CCurl",
      pkgConfig: "libcurl",
      providers: [.apt(["libcurl4-openssl-dev"])]
    ),
    // The public header, imported so that the exported functions are
    // written against the same types that C callers see.
    .systemLibrary(name: "COpStatusABI", path: "Sources/COpStatusABI"),
    .target(
      name: "OpStatus",
      dependencies: ["CJansson", "CCurl", "COpStatusABI"]
    ),
    .testTarget(name: "OpStatusTests", dependencies: ["OpStatus", "CJansson"]),
  ]
)
