/// A check run on TOML text before TOMLKit parses it.
///
/// The TOML parser TOMLKit bundles (toml++ 3) asserts, and so aborts the process, on a table
/// header whose `[` or `[[` is followed by anything but a key (a lone `[` on its line, `[=`, `[#`),
/// instead of reporting a syntax error; its assertions stay compiled in release builds. Such a
/// header is refused here, with its line, as the syntax error it is.
public enum TOMLHeaderCheck {
    /// The 1-based line of the first table header that has no key, or nil.
    public static func firstHeaderWithoutKey(in text: String) -> Int? {
        var depth = 0            // open [ and { of values spanning lines
        var line = 1
        var atLineStart = true
        var characters = Array(text.unicodeScalars)[...]
        func isKeyStart(_ c: Unicode.Scalar) -> Bool {
            c == "\"" || c == "'" || c == "_" || c == "-" || ("a"..."z").contains(c) || ("A"..."Z").contains(c) || ("0"..."9").contains(c)
        }
        while let c = characters.first {
            characters = characters.dropFirst()
            switch c {
            case "\n":
                line += 1
                atLineStart = true
                continue
            case " ", "\t", "\r":
                continue
            case "#":
                while let next = characters.first, next != "\n" { characters = characters.dropFirst() }
            case "\"", "'":
                // Strings, single- or multi-line: skip to the closing quote(s).
                let triple = characters.prefix(2).elementsEqual([c, c])
                if triple { characters = characters.dropFirst(2) }
                while let next = characters.first {
                    characters = characters.dropFirst()
                    if next == "\n" { line += 1; if !triple { break } }
                    if next == "\\" && c == "\"" { characters = characters.dropFirst(); continue }
                    if next == c && (!triple || characters.prefix(2).elementsEqual([c, c])) {
                        if triple { characters = characters.dropFirst(2) }
                        break
                    }
                }
            case "[" where atLineStart && depth == 0:
                if characters.first == "[" { characters = characters.dropFirst() }
                while let next = characters.first, next == " " || next == "\t" { characters = characters.dropFirst() }
                guard let next = characters.first, isKeyStart(next) || next == "]" else { return line }
            case "[", "{":
                depth += 1
            case "]", "}":
                depth = max(0, depth - 1)
            default:
                break
            }
            atLineStart = false
        }
        return nil
    }
}
