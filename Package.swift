// swift-tools-version: 6.1
//
// MetaRL — meta-reinforcement learning in Swift. The module map is DESIGN.md's: data flows from
// environment specs to tasks, episodes, gradients, parameters, logs and pictures.

import PackageDescription

// MARK: - Traits

// `Viewer` (default) compiles the SDL2 viewer; it needs libsdl2-dev, libsdl2-image-dev and
// libsdl2-ttf-dev. `swift build --disable-default-traits` builds a headless MetaRL that needs no SDL
// headers at all: the `CSDL2` shim is then not a dependency and `Viewer` compiles empty.
//
// `Distributed` (off by default) compiles the MPI communicator of the Experiments module (Open MPI,
// `libopenmpi-dev`): `mpirun -np R metarl train …` then shares each meta-batch's tasks among R
// processes. Without it, `CMPI` is not a dependency and a run is one process.
let traits: Set<Trait> = [
    .default(enabledTraits: ["Viewer"]),
    .trait(name: "Viewer", description: "SDL2 window and offscreen rendering of adaptation episodes."),
    .trait(name: "Distributed", description: "MPI communicator for multi-process training (Open MPI)."),
]

// MARK: - Settings shared by every Swift target

// Strict concurrency is the language-mode default in Swift 6; nothing else is set package-wide.
let swiftSettings: [SwiftSetting] = []

let package = Package(
    name: "MetaRL",
    platforms: [.macOS(.v14)],
    products: [
        // MARK: - Public products
        .executable(name: "metarl", targets: ["metarl"]),
        .library(name: "MetaRL", targets: ["Autodiff", "Environments", "MetaLearning", "Experiments"]),
    ],
    traits: traits,
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-numerics", from: "1.1.1"),
        .package(url: "https://github.com/LebJe/TOMLKit", from: "0.6.0"),
    ],
    targets: [
        // MARK: - System libraries

        // cblas from OpenBLAS on Linux (pkg-config `openblas`, header `cblas.h`); Accelerate on Apple
        // platforms, where the shim header includes <Accelerate/Accelerate.h> instead.
        .systemLibrary(
            name: "CBLAS",
            pkgConfig: "openblas",
            providers: [.apt(["libopenblas-dev"])]
        ),
        // Open MPI's C library; only a dependency when the `Distributed` trait is on.
        .systemLibrary(
            name: "CMPI",
            pkgConfig: "ompi-c",
            providers: [.apt(["libopenmpi-dev"])]
        ),
        // SDL2, SDL2_image and SDL2_ttf; only a dependency when the `Viewer` trait is on.
        .systemLibrary(
            name: "CSDL2",
            pkgConfig: "sdl2",
            providers: [.apt(["libsdl2-dev", "libsdl2-image-dev", "libsdl2-ttf-dev"])]
        ),

        // Float kernels for the hottest pointwise loops, compiled for AVX-512, AVX2 and the
        // baseline and chosen at run time (Swift code targets baseline x86-64, where these loops
        // run three to six times slower).
        .target(name: "CKernels"),

        // MARK: - Modules

        .target(
            name: "Autodiff",
            dependencies: ["CBLAS", "CKernels", .product(name: "RealModule", package: "swift-numerics")],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "Environments",
            dependencies: [.product(name: "TOMLKit", package: "TOMLKit")],
            swiftSettings: swiftSettings
        ),
        .target(name: "MetaLearning", dependencies: ["Autodiff", "Environments"], swiftSettings: swiftSettings),
        .target(
            name: "Experiments",
            dependencies: [
                "MetaLearning",
                .product(name: "RealModule", package: "swift-numerics"),
                .product(name: "TOMLKit", package: "TOMLKit"),
                .target(name: "CMPI", condition: .when(traits: ["Distributed"])),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "Viewer",
            dependencies: [
                "Experiments",
                .target(name: "CSDL2", condition: .when(traits: ["Viewer"])),
            ],
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "metarl",
            dependencies: [
                "Autodiff", "Environments", "MetaLearning", "Experiments", "Viewer",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: swiftSettings
        ),

        // MARK: - Tests

        // Finite-difference checkers and tolerances shared by the test targets.
        .target(name: "TestSupport", dependencies: ["Autodiff", "Environments"], path: "Tests/TestSupport"),
        .testTarget(name: "AutodiffTests", dependencies: ["Autodiff", "TestSupport"]),
        .testTarget(name: "EnvironmentsTests", dependencies: ["Environments"]),
        .testTarget(
            name: "MetaLearningTests",
            dependencies: ["MetaLearning", "Environments", "TestSupport", .product(name: "RealModule", package: "swift-numerics")]
        ),
        .testTarget(name: "ExperimentsTests", dependencies: ["Experiments", "MetaLearning", "Environments", "Autodiff"]),
        .testTarget(
            name: "ViewerTests",
            dependencies: ["Viewer", "Experiments", "MetaLearning", "Environments", .target(name: "CSDL2", condition: .when(traits: ["Viewer"]))]
        ),
        // Runs the built `metarl` binary: output, errors and exit codes.
        .testTarget(name: "CLITests", dependencies: ["metarl"]),
    ]
)
