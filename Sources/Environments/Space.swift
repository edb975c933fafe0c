/// The set of valid observations or actions of an environment (Gymnasium's spaces).
public enum Space: Sendable, Equatable, Codable {
    /// Real vectors with per-coordinate bounds (`-.infinity`/`.infinity` for unbounded).
    case box(lower: [Double], upper: [Double])
    /// The integers `0..<count`.
    case discrete(count: Int)

    /// Floats per element: the vector length of a box, 1 for a discrete index.
    public var dimension: Int {
        switch self {
        case .box(let lower, _): lower.count
        case .discrete: 1
        }
    }
}
