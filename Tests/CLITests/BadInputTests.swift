import Foundation
import Testing

/// Ordinary mistakes on the command line: each is refused with one line naming the flag, exit 2,
/// and nothing written.
@Suite("metarl refuses bad flags", .serialized)
struct BadInputTests {
    func scratch(_ name: String) -> URL {
        FileManager.default.temporaryDirectory.appendingPathComponent("metarl-\(name)-\(UUID().uuidString)")
    }

    /// A negative number after a flag used to be read as a missing value ("-1" looked like a flag).
    @Test func aNegativeNumberIsReadAsANumberAndRefusedForWhatItIs() throws {
        let out = scratch("negative")
        let r = try metarl("train", "navigation", "--max-kl", "-1", "--out", out.path)
        #expect(r.status == 2)
        #expect(r.error.contains("max-kl") && r.error.contains("must be positive") && r.error.contains("-1"), "\(r.error)")
        #expect(!FileManager.default.fileExists(atPath: out.path))
    }

    /// `64,,64` used to become 64,64.
    @Test func anEmptyLayerWidthIsRefused() throws {
        let r = try metarl("train", "navigation", "--hidden", "64,,64", "--out", scratch("hidden").path)
        #expect(r.status == 2 && r.error.contains("--hidden") && r.error.contains("64,,64"), "\(r.error)")
    }

    @Test func aPictureSizeOutOfRangeSaysTheRange() throws {
        let r = try metarl("render", "--random", "navigation", "--size", "100x100", "--out", scratch("size").path + ".png")
        #expect(r.status == 2)
        #expect(r.error.contains("--size must lie from 320x240 to 8192x8192, got 100x100"), "\(r.error)")
    }

    @Test func aHugeNetworkIsRefusedBeforeAnythingIsAllocatedOrWritten() throws {
        let out = scratch("huge")
        let r = try metarl("train", "navigation", "--hidden", "100000,100000", "--out", out.path)
        #expect(r.status == 2 && r.error.contains("hidden") && r.error.contains("GB of memory"), "\(r.error)")
        #expect(!FileManager.default.fileExists(atPath: out.path))
    }

    /// The map printed is task 0's, the first one listed (it used to be an extra, unlisted task).
    @Test func envsShowPrintsTheMapOfTaskZero() throws {
        let three = try metarl("envs", "show", "maze-random", "--tasks", "3")
        let one = try metarl("envs", "show", "maze-random", "--tasks", "1")
        #expect(three.status == 0 && one.status == 0)
        func map(_ output: String) -> String { output.components(separatedBy: "the map of task 0:").last ?? "" }
        #expect(three.output.contains("the map of task 0:"))
        #expect(map(three.output) == map(one.output))
        #expect(!map(three.output).isEmpty)
    }
}
