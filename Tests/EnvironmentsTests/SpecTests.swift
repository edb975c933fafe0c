import Environments
import Foundation
import Testing

@Suite("Environment specs")
struct SpecTests {
    static let presetNames = ["navigation", "navigation-normalized", "dense-box", "sparse-semicircle", "momentum", "obstacles"]

    @Test(arguments: presetNames)
    func presetLoadsByShortName(name: String) throws {
        let spec = try EnvironmentSpec.load(name)
        #expect(spec.name == name)
        #expect(!spec.description.isEmpty)
        guard let family = spec.family.base as? PointRobotFamily else { Issue.record("not a point robot"); return }
        var rng = RandomStream.derive(seed: 9, purpose: .trainingTasks)
        #expect(family.sampleTasks(count: 5, using: &rng).count == 5)
    }

    @Test func theNavigationPresetIsMAMLsEnvironmentExactly() throws {
        #expect(try EnvironmentSpec.load("navigation").family == AnyEnvironmentFamily(PointRobotFamily.navigation))
    }

    /// rllab's `normalize`: the policy's action is clipped to [−1, 1], then scaled by 0.1.
    @Test func theNormalizedNavigationPresetDiffersOnlyInActionUnits() throws {
        var expected = PointRobotFamily.navigation
        expected.actionBound = .fixed(1)
        expected.actionScale = .fixed(0.1)
        #expect(try EnvironmentSpec.load("navigation-normalized").family == AnyEnvironmentFamily(expected))
    }

    @Test func listingFindsEveryPreset() throws {
        let directory = try #require(EnvironmentSpec.presetDirectory())
        #expect(Set(EnvironmentSpec.presets(in: directory).map(\.name)).isSuperset(of: Self.presetNames))
    }

    @Test func aSpecLoadsFromAPath() throws {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("metarl-spec-\(getpid()).toml")
        try "family = \"point-robot\"\ngoal = [0.25, 0.5]\nhorizon = 7\n".write(to: url, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: url) }
        let spec = try EnvironmentSpec.load(url.path)
        guard let family = spec.family.base as? PointRobotFamily else { Issue.record("not a point robot"); return }
        #expect(family.horizon == 7 && family.goal == .fixed(Point2(0.25, 0.5)))
    }

    /// A spec text and the key and words its error must name.
    struct Invalid: Sendable, CustomTestStringConvertible {
        let text: String
        let key: String?
        let words: String
        var testDescription: String { words }
    }

    static let invalid: [Invalid] = [
        .init(text: "goal = [0, 0]", key: nil, words: "missing `family`"),
        .init(text: "family = \"cart-pole\"\ngoal = [0, 0]", key: "family", words: "unknown family"),
        .init(text: "family = \"point-robot\"\ngoal = [0, 0]\nhorizn = 100", key: "horizn", words: "unknown key (did you mean `horizon`?)"),
        .init(text: "family = \"point-robot\"\ngoal = [0, 0]\nzoom = 2", key: "zoom", words: "unknown key"),
        .init(text: "family = \"point-robot\"\ngoal = [0, 0]\nhorizon = \"100\"", key: "horizon", words: "expected an integer, found the string"),
        .init(text: "family = \"point-robot\"\ngoal = [0, 0]\nhorizon = 0", key: "horizon", words: "must lie in 1…1000000, found 0"),
        .init(text: "family = \"point-robot\"\ngoal = [0, 0]\nhorizon = 100000000000", key: "horizon", words: "must lie in 1…1000000"),
        // Non-finite and absurd numbers, wherever they are read.
        .init(text: "family = \"point-robot\"\ngoal = [0, 0]\naction_bound = nan", key: "action_bound", words: "must be a finite number, found nan"),
        .init(text: "family = \"point-robot\"\ngoal = [0, 0]\naction_bound = inf", key: "action_bound", words: "must be a finite number, found inf"),
        .init(text: "family = \"point-robot\"\ngoal = [0, 0]\naction_bound = { uniform = [0.1, -inf] }", key: "action_bound.uniform", words: "finite"),
        .init(text: "family = \"point-robot\"\ngoal = [nan, 0]", key: "goal", words: "finite"),
        .init(text: "family = \"point-robot\"\ngoal = [0, 0]\naction_scale = 1e300", key: "action_scale", words: "within ±10⁶"),
        .init(text: "family = \"point-robot\"\ngoal = [0, 0]\n[reward]\ncontrol_cost = nan", key: "reward.control_cost", words: "finite"),
        .init(text: "family = \"gridworld\"\nmap = { generator = \"empty\", width = 8, height = 8 }\nslip = nan", key: "slip", words: "finite"),
        .init(text: "family = \"gridworld\"\nmap = { generator = \"empty\", width = 8, height = 8 }\n[reward]\ngoal = nan", key: "reward.goal", words: "finite"),
        .init(text: "family = \"gridworld\"\nmap = { generator = \"empty\", width = 100000, height = 8 }", key: "map", words: "at most 512 cells a side"),
        .init(text: "family = \"gridworld\"\nmap = { generator = \"empty\", width = 8, height = 8 }\nepisodes_per_trial = 1000000", key: "episodes_per_trial", words: "must lie in 1…1000"),
        .init(text: "family = \"point-robot\"", key: nil, words: "missing `goal`"),
        .init(text: "family = \"point-robot\"\ngoal = [0, 0, 1]", key: "goal", words: "expected a point"),
        .init(text: "family = \"point-robot\"\ngoal = { uniform = [[0.5, 0], [-0.5, 0]] }", key: "goal.uniform", words: "empty box"),
        .init(text: "family = \"point-robot\"\ngoal = { circle = 1 }", key: "goal", words: "expected one of"),
        .init(text: "family = \"point-robot\"\ngoal = [0, 0]\naction_bound = { uniform = [0.2, 0.1] }", key: "action_bound.uniform", words: "empty range"),
        .init(text: "family = \"point-robot\"\ngoal = [0, 0]\naction_bound = { choice = [] }", key: "action_bound.choice", words: "empty list"),
        .init(text: "family = \"point-robot\"\ngoal = [0, 0]\ndamping = 0.1", key: "damping", words: "only applies to momentum"),
        .init(text: "family = \"point-robot\"\ngoal = [0, 0]\n[reward]\nkind = \"sparse\"", key: "reward", words: "needs `radius`"),
        .init(text: "family = \"point-robot\"\ngoal = [0, 0]\n[reward]\nkind = \"distance\"\nradius = 0.2", key: "reward.radius", words: "only a sparse reward"),
        .init(text: "family = \"point-robot\"\ngoal = [0, 0]\n[reward]\nkind = \"dense\"", key: "reward.kind", words: "unknown reward"),
        .init(text: "family = \"point-robot\"\ngoal = [0, 0]\n[termination]\nkind = \"box\"", key: "termination.half_width", words: "positive `half_width`"),
        .init(text: "family = \"point-robot\"\ngoal = [0.5, 0]\n[obstacles]\nfixed = [{ center = [0, 0], radius = 0.1 }]", key: "obstacles.fixed", words: "start (0.0, 0.0) lies inside"),
        .init(text: "family = \"point-robot\"\ngoal = [0.5, 0]\n[obstacles]\nrandom = { count = 50, radius = 0.2, box = [[-0.5, -0.5], [0.5, 0.5]] }", key: "obstacles.random", words: "cover more than half"),
        .init(text: "family = \"point-robot\"\ngoal = [0, 0]\n[reward]\nsuccess_bonus = 1", key: "reward.success_radius", words: "positive success radius"),
    ]

    @Test(arguments: invalid)
    func invalidSpecsAreRejectedNamingTheKey(_ case: Invalid) {
        do {
            _ = try EnvironmentSpec.parse(`case`.text, file: "bad.toml", name: "bad")
            Issue.record("accepted: \(`case`.text)")
        } catch let error as SpecError {
            #expect(error.file == "bad.toml")
            #expect(error.key == `case`.key, "\(error)")
            #expect(error.description.contains(`case`.words), "\(error)")
        } catch {
            Issue.record("unexpected error \(error)")
        }
    }

    /// TOMLKit's parser aborts the process on a table header without a key (found by
    /// scripts/fuzz-loaders.py); such a header is a syntax error with its line instead.
    @Test func aTableHeaderWithoutAKeyIsASyntaxErrorNotACrash() {
        #expect(TOMLHeaderCheck.firstHeaderWithoutKey(in: "family = \"point-robot\"\n[obstacles]\n[\nrandom = 1\n") == 3)
        #expect(TOMLHeaderCheck.firstHeaderWithoutKey(in: "a = 1\n[[=\n") == 2)
        #expect(TOMLHeaderCheck.firstHeaderWithoutKey(in: "[ \"quoted\" ]\nx = [\n  [1, 2],\n  [3, 4],\n]\ns = \"\"\"\n[\n\"\"\"\n# [\n[a.b]\n") == nil)
        #expect { _ = try EnvironmentSpec.parse("family = \"point-robot\"\n[\ngoal = [0, 0]\n", file: "bad.toml", name: "bad") } throws: {
            ($0 as? SpecError)?.line == 2
        }
    }

    @Test func syntaxErrorsGiveLineAndColumn() {
        #expect {
            _ = try EnvironmentSpec.parse("family = \"point-robot\"\ngoal = = [0, 0]\n", file: "bad.toml", name: "bad")
        } throws: { error in
            guard let error = error as? SpecError else { return false }
            return error.line == 2 && error.column != nil && error.description.hasPrefix("bad.toml:2:")
        }
    }

    @Test func anUnknownNameListsThePresets() {
        #expect {
            _ = try EnvironmentSpec.load("navigaton")
        } throws: { error in
            (error as? SpecError)?.description.contains("presets: ") == true
                && (error as? SpecError)?.description.contains("navigation") == true
        }
    }
}

@Suite("Suggestions for unknown keys")
struct KeySuggestionTests {
    @Test func editDistanceCountsInsertionsDeletionsAndSubstitutions() {
        #expect(KeySuggestion.editDistance(Array("kitten"), Array("sitting")) == 3)
        #expect(KeySuggestion.editDistance(Array(""), Array("abc")) == 3)
        #expect(KeySuggestion.editDistance(Array("horizn"), Array("horizon")) == 1)
        #expect(KeySuggestion.editDistance(Array("same"), Array("same")) == 0)
    }

    @Test func onlyACloseKeyIsOffered() {
        #expect(KeySuggestion.closest(to: "horizn", among: ["goal", "horizon", "start"]) == "horizon")
        #expect(KeySuggestion.closest(to: "maxKl", among: ["maxKL", "discount"]) == "maxKL")
        // Two edits in four letters: too far to be a typo.
        #expect(KeySuggestion.closest(to: "step", among: ["seed", "spec"]) == nil)
        #expect(KeySuggestion.hint(for: "zoom", among: ["goal", "horizon"]) == "")
    }
}
