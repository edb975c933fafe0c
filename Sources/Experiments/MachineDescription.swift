import Autodiff
import Foundation

/// The machine a run or a benchmark ran on: figures from different CPUs are not comparable, so
/// every record names its CPU, its cores and the kernels MetaRL chose there.
public struct MachineDescription: Sendable, Codable, Equatable {
    /// The CPU's model name (`/proc/cpuinfo`), or "unknown".
    public var cpu: String
    /// Cores this process may use.
    public var cores: Int
    /// OpenBLAS's kernel family (or "Accelerate").
    public var blasCore: String
    /// The instruction set of MetaRL's own Float kernels ("avx512", "avx2", "baseline").
    public var kernelInstructionSet: String
    public var operatingSystem: String

    enum CodingKeys: String, CodingKey {
        case cpu, cores
        case blasCore = "blas_core"
        case kernelInstructionSet = "kernel_instruction_set"
        case operatingSystem = "operating_system"
    }

    /// This machine.
    public static var current: MachineDescription {
        MachineDescription(cpu: cpuModel, cores: ProcessInfo.processInfo.activeProcessorCount,
                           blasCore: ComputeEnvironment.blasCore, kernelInstructionSet: Float.kernelInstructionSet,
                           operatingSystem: ProcessInfo.processInfo.operatingSystemVersionString)
    }

    /// One line for a report: "AMD EPYC 9B14, 2 cores (BLAS Haswell, kernels avx512)".
    public var summary: String { "\(cpu), \(cores) cores (BLAS \(blasCore), kernels \(kernelInstructionSet))" }

    private static var cpuModel: String {
        guard let text = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8) else { return "unknown" }
        for line in text.split(separator: "\n") where line.hasPrefix("model name") {
            if let colon = line.firstIndex(of: ":") {
                return line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
            }
        }
        return "unknown"
    }
}
