import Foundation

/// An environment family: a distribution over tasks, the batched environment that steps them,
/// and what the rest of MetaRL needs to know about it — its spec loader, its description, and its
/// tasks' lines for `envs show` and the viewer. Training, evaluation, checkpoints and the CLI work
/// with any family through `AnyEnvironmentFamily`; `EnvironmentFamilies.all` lists them.
///
/// Adding a family is its files here (the family, its task, its batch, its spec loader) and one
/// line in `EnvironmentFamilies.all`, plus its renderer in `Viewer`.
public protocol EnvironmentFamily: TaskDistribution, Codable, Equatable {
    associatedtype Batch: VectorEnvironment where Batch.Task == Task
    /// The family's name as specs write it (`family = "point-robot"`).
    static var name: String { get }
    /// `count` environments of this family stepped together.
    func makeBatch(count: Int, autoreset: AutoresetMode) -> Batch
    /// The resolved parameters, one per line, as `metarl envs show` prints them.
    var parameterLines: [(String, String)] { get }
    /// One line describing a task, for `metarl envs show`.
    func summary(of task: Task) -> String
    /// What distinguishes a task among its family's, as short items (the viewer's HUD).
    func details(of task: Task) -> [String]
    /// A picture of the task in text (a gridworld's map), or nil.
    func picture(of task: Task) -> String?
    /// The observation the family's agents get, in a word (`position`, `egocentric 5×5 occluded`).
    var observationName: String { get }
    /// The family with another observation mode, for `bench envs --observation`.
    /// - Throws: `SpecError` when the family has no such mode.
    func observing(_ mode: String, viewSize: Int, occlusion: Bool) throws -> Self
}

extension EnvironmentFamily {
    public func picture(of task: Task) -> String? { nil }
    public var observationName: String { "position" }
    public func observing(_ mode: String, viewSize: Int, occlusion: Bool) throws -> Self {
        throw SpecError(file: "--observation", message: "\(Self.name) has a single observation mode (\(observationName))")
    }
}

/// A family that `envs/` specs can describe: built from a spec's keys.
protocol SpecLoadable: EnvironmentFamily {
    /// Reads the keys after `family` and `description`; files a spec names are found in `directory`.
    init(spec: inout SpecTable, directory: URL?) throws
}

/// The families MetaRL knows: specs, checkpoints and the CLI look them up here by name.
public enum EnvironmentFamilies {
    static let all: [any SpecLoadable.Type] = [
        PointRobotFamily.self,
        GridworldFamily.self,
    ]

    /// The names of every family, as specs write them.
    public static var names: [String] { all.map { $0.name } }

    static func named(_ name: String) -> (any SpecLoadable.Type)? { all.first { $0.name == name } }
}

/// Any environment family, as specs, checkpoints and runs hold it.
public struct AnyEnvironmentFamily: Sendable, Equatable, Codable {
    public let base: any EnvironmentFamily

    public init(_ base: some EnvironmentFamily) { self.base = base }

    /// The family's name as written in specs.
    public var name: String { type(of: base).name }

    /// Runs `body` with the family's concrete type.
    public func open<Result>(_ body: (any EnvironmentFamily) throws -> Result) rethrows -> Result { try body(base) }

    public static func == (a: AnyEnvironmentFamily, b: AnyEnvironmentFamily) -> Bool {
        func equal<F: EnvironmentFamily>(_ family: F) -> Bool { (b.base as? F).map { $0 == family } ?? false }
        return equal(a.base)
    }

    private enum Keys: String, CodingKey { case kind }

    /// The family's parameters with a `kind` beside them; a checkpoint without `kind` was written
    /// when point robots were the only family.
    public init(from decoder: any Decoder) throws {
        let kind = try decoder.container(keyedBy: Keys.self).decodeIfPresent(String.self, forKey: .kind) ?? PointRobotFamily.name
        guard let type = EnvironmentFamilies.named(kind) else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath + [Keys.kind],
                                                    debugDescription: "unknown environment family \"\(kind)\""))
        }
        base = try type.init(from: decoder)
    }

    public func encode(to encoder: any Encoder) throws {
        try base.encode(to: encoder)
        var container = encoder.container(keyedBy: Keys.self)
        try container.encode(name, forKey: .kind)
    }

    /// One line per sampled task for `envs show`, and the picture of the first.
    public func describeTasks(count: Int, using rng: inout some RandomNumberGenerator) -> (lines: [String], firstPicture: String?) {
        func describe<F: EnvironmentFamily>(_ family: F) -> (lines: [String], firstPicture: String?) {
            let tasks = family.sampleTasks(count: count, using: &rng)
            return (tasks.map(family.summary(of:)), tasks.first.flatMap(family.picture(of:)))
        }
        return describe(base)
    }

    /// What distinguishes `task` among the family's tasks (empty for a task of another family).
    public func details(of task: any Sendable) -> [String] {
        func details<F: EnvironmentFamily>(_ family: F) -> [String] { (task as? F.Task).map(family.details(of:)) ?? [] }
        return details(base)
    }
}
