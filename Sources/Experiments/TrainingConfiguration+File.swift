import Environments
import Foundation
import TOMLKit

extension TrainingConfiguration {
    /// Reads a run configuration from TOML (the format of a run's `config.toml`); keys left out
    /// keep their defaults.
    /// - Throws: `RunError` naming the file and the key for syntax errors, wrong types and unknown keys.
    public static func load(file url: URL) throws -> TrainingConfiguration {
        guard let text = try? String(contentsOf: url, encoding: .utf8) else { throw RunError.missingFile(path: url.path) }
        let table: TOMLTable
        do {
            table = try TOMLTable(string: text)
        } catch let error as TOMLParseError {
            throw RunError.invalidSettings(path: url.path, reason: "line \(error.source.begin.line): \(error.description)")
        }
        // Start from the defaults and overlay the file, so that any subset of keys is accepted.
        let merged: TOMLTable = try TOMLEncoder().encode(TrainingConfiguration())
        func overlay(_ source: TOMLTable, onto target: TOMLTable, path: String) throws {
            for key in source.keys {
                let name = path.isEmpty ? key : "\(path).\(key)"
                guard let existing = target[key] else {
                    throw RunError.invalidSettings(path: url.path, reason: "unknown key `\(name)`"
                                                   + KeySuggestion.hint(for: key, among: target.keys))
                }
                if let sub = source[key]?.table, let targetSub = existing.table {
                    try overlay(sub, onto: targetSub, path: name)
                } else if let value = source[key] {
                    target[key] = value
                }
            }
        }
        try overlay(table, onto: merged, path: "")
        do {
            return try TOMLDecoder().decode(TrainingConfiguration.self, from: merged)
        } catch let DecodingError.typeMismatch(type, context), let DecodingError.valueNotFound(type, context) {
            let key = context.codingPath.map(\.stringValue).joined(separator: ".")
            throw RunError.invalidSettings(path: url.path, reason: "key `\(key)`: expected \(type)")
        } catch let DecodingError.keyNotFound(key, context) {
            // TOMLKit reports a value of the wrong type as a missing key.
            var keys = context.codingPath.map(\.stringValue)
            if keys.last != key.stringValue { keys.append(key.stringValue) }
            let path = keys.joined(separator: ".")
            throw RunError.invalidSettings(path: url.path, reason: "key `\(path)`: a value of the wrong type")
        } catch let DecodingError.dataCorrupted(context) {
            let key = context.codingPath.map(\.stringValue).joined(separator: ".")
            throw RunError.invalidSettings(path: url.path, reason: "key `\(key)`: \(context.debugDescription)")
        }
    }
}
