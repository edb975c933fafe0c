import Foundation
import TOMLKit

/// An environment spec loaded from `envs/` or from a file: a family and its task distribution.
///
/// A spec is TOML: `family` names the family, `description` says what it is in one line, and the
/// remaining keys are the family's parameters, each fixed or a distribution. Loading rejects
/// unknown keys, wrong types, empty ranges and impossible settings with a `SpecError` that names
/// the file and the key.
public struct EnvironmentSpec: Sendable, Equatable {
    /// The preset's short name, or the file's name without extension.
    public let name: String
    /// Where it was read from.
    public let path: String
    public let description: String
    public let family: AnyEnvironmentFamily

    /// The horizons a spec may set: a million steps per episode is far beyond any meta-RL task,
    /// and anything longer is a typo that would only surface as an allocation failure.
    public static let horizonLimit = 1...1_000_000

    public init(name: String, path: String, description: String, family: AnyEnvironmentFamily) {
        self.name = name
        self.path = path
        self.description = description
        self.family = family
    }

    /// Loads `nameOrPath`: an existing file path, or the short name of a preset in `presetDirectory`.
    /// - Throws: `SpecError` for a missing or invalid spec.
    public static func load(_ nameOrPath: String, presetDirectory: URL? = EnvironmentSpec.presetDirectory()) throws -> EnvironmentSpec {
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: nameOrPath, isDirectory: &isDirectory), !isDirectory.boolValue {
            return try load(file: URL(fileURLWithPath: nameOrPath), shownAs: nameOrPath)
        }
        let presets = presetDirectory.map(Self.presets(in:)) ?? []
        if let preset = presets.first(where: { $0.name == nameOrPath }) {
            return preset
        }
        let known = presets.map(\.name).joined(separator: ", ")
        throw SpecError(file: nameOrPath, message: nameOrPath.hasSuffix(".toml") || nameOrPath.contains("/")
            ? "no such file"
            : "no such spec file or preset" + (known.isEmpty ? " (no presets found: set METARL_ENVS to the envs/ folder)" : "; presets: \(known)"))
    }

    /// Reads and validates one spec file.
    public static func load(file: URL, shownAs shown: String? = nil) throws -> EnvironmentSpec {
        let label = shown ?? file.path
        let contents: String
        do {
            contents = try String(contentsOf: file, encoding: .utf8)
        } catch {
            throw SpecError(file: label, message: "cannot read the file (\(error.localizedDescription))")
        }
        return try parse(contents, file: label, name: file.deletingPathExtension().lastPathComponent, path: file.path,
                         directory: file.deletingLastPathComponent())
    }

    /// Validates spec text; `file` is used in error messages, `directory` to find map files.
    public static func parse(_ contents: String, file: String, name: String, path: String = "",
                             directory: URL? = nil) throws -> EnvironmentSpec {
        let table: TOMLTable
        if let line = TOMLHeaderCheck.firstHeaderWithoutKey(in: contents) {
            throw SpecError(file: file, line: line, message: "not valid TOML: a table header needs a key after `[`")
        }
        do {
            table = try TOMLTable(string: contents)
        } catch let error as TOMLParseError {
            throw SpecError(file: file, line: error.source.begin.line, column: error.source.begin.column,
                            message: "not valid TOML: \(error.description)")
        }
        var spec = SpecTable(table, file: file)
        guard let familyName = try spec.string("family") else {
            throw spec.error(nil, "missing `family` (for example `family = \"point-robot\"`)")
        }
        let description = try spec.string("description") ?? ""
        guard let type = EnvironmentFamilies.named(familyName) else {
            throw spec.error("family", "unknown family \"\(familyName)\"; known: \(EnvironmentFamilies.names.joined(separator: ", "))")
        }
        let family = AnyEnvironmentFamily(try type.init(spec: &spec, directory: directory))
        try spec.finish()
        return EnvironmentSpec(name: name, path: path, description: description, family: family)
    }

    /// Every preset under `directory` (`<family>/<name>.toml`) that loads, sorted by path.
    /// Loading one by name reports why it does not (see `presetFiles(in:)`).
    public static func presets(in directory: URL) -> [EnvironmentSpec] {
        presetFiles(in: directory).compactMap { try? load(file: $0) }
    }

    /// The spec files under `directory`, sorted by path.
    public static func presetFiles(in directory: URL) -> [URL] {
        let files = (try? FileManager.default.subpathsOfDirectory(atPath: directory.path)) ?? []
        return files.filter { $0.hasSuffix(".toml") }.sorted().map { directory.appendingPathComponent($0) }
    }

    /// The `envs/` folder: `$METARL_ENVS` if set, else the first `envs/` found in the working
    /// directory or above it, else `share/metarl/envs` beside an installed executable's `bin/`
    /// (`make install`), else above the executable (a build folder inside the checkout).
    public static func presetDirectory() -> URL? {
        let environment = ProcessInfo.processInfo.environment
        if let explicit = environment["METARL_ENVS"], !explicit.isEmpty {
            return URL(fileURLWithPath: explicit)
        }
        let executableFolder = URL(fileURLWithPath: CommandLine.arguments.first ?? ".").resolvingSymlinksInPath().deletingLastPathComponent()
        func isFolder(_ url: URL) -> Bool {
            var isDirectory: ObjCBool = false
            return FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory) && isDirectory.boolValue
        }
        /// The first `envs/` folder in `start` or a folder above it.
        func envsAbove(_ start: URL) -> URL? {
            var folder = start.standardizedFileURL
            while true {
                let candidate = folder.appendingPathComponent("envs")
                if isFolder(candidate) { return candidate }
                let parent = folder.deletingLastPathComponent()
                if parent.path == folder.path { return nil }
                folder = parent
            }
        }
        let installed = executableFolder.deletingLastPathComponent().appendingPathComponent("share/metarl/envs").standardizedFileURL
        return envsAbove(URL(fileURLWithPath: FileManager.default.currentDirectoryPath))
            ?? (isFolder(installed) ? installed : nil)
            ?? envsAbove(executableFolder)
    }
}
