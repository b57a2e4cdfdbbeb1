// swift-tools-version:5.9
//
// Confkit: Swift wrapper over confkit's C ABI (include/confkit.h at the
// repository root). See README.md for building libconfkit and linking it.

import PackageDescription

// Command-line builds (`swift build`, `swift test`) need to know where
// libconfkit is. Set CONFKIT_LIB_DIR to a folder holding libconfkit.a (for
// example the repository's target/confkit-swift, see README.md); it becomes a
// `-L` flag. Unset (the default, and the case in Xcode with the XCFramework
// linked into the app target), no unsafe flag is added, so the package stays
// usable as a dependency.
var confkitLinkerSettings: [LinkerSetting] = [
    // libconfkit uses SecRandomCopyBytes for key generation on iOS (getrandom).
    .linkedFramework("Security", .when(platforms: [.iOS, .macOS])),
]
if let libDir = Context.environment["CONFKIT_LIB_DIR"], !libDir.isEmpty {
    confkitLinkerSettings.append(.unsafeFlags(["-L\(libDir)"]))
}

let package = Package(
    name: "Confkit",
    platforms: [
        .iOS(.v13),
        .macOS(.v11),
    ],
    products: [
        .library(name: "Confkit", targets: ["Confkit"]),
    ],
    targets: [
        // The C ABI: a module map over the repository's generated header, and
        // `link "confkit"`. No C sources and no copy of the header.
        .systemLibrary(
            name: "CConfkit",
            path: "Sources/CConfkit"
        ),
        // The idiomatic Swift API.
        .target(
            name: "Confkit",
            dependencies: ["CConfkit"],
            path: "Sources/Confkit",
            linkerSettings: confkitLinkerSettings
        ),
        .testTarget(
            name: "ConfkitTests",
            dependencies: ["Confkit", "CConfkit"],
            path: "Tests/ConfkitTests"
        ),
    ]
)
