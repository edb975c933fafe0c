/// The known key a mistyped one was most likely meant to be, for "unknown key" errors.
public enum KeySuggestion {
    /// The key among `known` closest to `unknown` in edit distance, if it is close: at most two
    /// edits, and fewer than half the length of the shorter key, so that a short key is not offered
    /// for an unrelated short word (`seed` for `step`). Ties go to the first in sorted order.
    public static func closest(to unknown: String, among known: some Sequence<String>) -> String? {
        var best: (key: String, distance: Int)?
        for key in known.sorted() {
            let distance = editDistance(Array(unknown.lowercased()), Array(key.lowercased()))
            guard distance <= 2, 2 * distance < min(unknown.count, key.count) else { continue }
            if best == nil || distance < best!.distance { best = (key, distance) }
        }
        return best?.key
    }

    /// " (did you mean `key`?)" when there is a close known key, else "".
    public static func hint(for unknown: String, among known: some Sequence<String>) -> String {
        closest(to: unknown, among: known).map { " (did you mean `\($0)`?)" } ?? ""
    }

    /// Levenshtein distance: each insertion, deletion or substitution counts one.
    public static func editDistance(_ a: [Character], _ b: [Character]) -> Int {
        // previous[j]: the distance between the first i − 1 characters of a and the first j of b.
        var previous = Array(0...b.count)
        for i in a.indices {
            var current = [i + 1] + [Int](repeating: 0, count: b.count)
            for j in b.indices {
                let substitution = previous[j] + (a[i] == b[j] ? 0 : 1)
                current[j + 1] = min(substitution, previous[j + 1] + 1, current[j] + 1)
            }
            previous = current
        }
        return previous[b.count]
    }
}
