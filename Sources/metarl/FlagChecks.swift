import ArgumentParser

/// Refuses a count flag outside `range`, naming the flag and the range: every size a command
/// takes has an upper bound, so that a typo (an extra zero or six) is an error and not an
/// allocation that aborts the process.
func require(_ value: Int, _ flag: String, in range: ClosedRange<Int>) throws {
    guard range.contains(value) else {
        throw ValidationError("\(flag) must lie in \(range.lowerBound)…\(range.upperBound), got \(value)")
    }
}
