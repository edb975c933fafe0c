import Foundation

/// TensorBoard's event files, written without TensorFlow or a protobuf library.
///
/// A file is a sequence of records, each `length` (UInt64, little-endian), the masked CRC-32C of
/// those 8 bytes, `length` bytes of data, and the masked CRC-32C of the data (TFRecord framing).
/// Each record's data is one `tensorflow.Event` protobuf; the first names the file version, the
/// others carry a `Summary` of scalar values at one step. Only the fields TensorBoard reads for
/// scalars are written:
///
///     Event   { double wall_time = 1; int64 step = 2; string file_version = 3; Summary summary = 5; }
///     Summary { repeated Value value = 1; }
///     Value   { string tag = 1; float simple_value = 2; }
public enum TensorBoardEvents {
    /// The version string TensorBoard expects in a file's first event.
    public static let fileVersion = "brain.Event:2"

    /// The record announcing the file version, which every event file starts with.
    public static func versionRecord(wallTime: Double) -> [UInt8] {
        var event = ProtobufWriter()
        event.double(field: 1, wallTime)
        event.string(field: 3, fileVersion)
        return record(event.bytes)
    }

    /// The record of one step's scalars.
    public static func scalarsRecord(step: Int, wallTime: Double, scalars: [(tag: String, value: Double)]) -> [UInt8] {
        var summary = ProtobufWriter()
        for (tag, value) in scalars {
            var entry = ProtobufWriter()
            entry.string(field: 1, tag)
            entry.float(field: 2, Float(value))
            summary.message(field: 1, entry.bytes)
        }
        var event = ProtobufWriter()
        event.double(field: 1, wallTime)
        event.varint(field: 2, UInt64(bitPattern: Int64(step)))
        event.message(field: 5, summary.bytes)
        return record(event.bytes)
    }

    /// TFRecord framing of `data`.
    public static func record(_ data: [UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(data.count + 16)
        let length = UInt64(data.count)
        let lengthBytes = (0..<8).map { UInt8(truncatingIfNeeded: length >> (8 * $0)) }
        out += lengthBytes
        out += littleEndian(CRC32C.masked(lengthBytes))
        out += data
        out += littleEndian(CRC32C.masked(data))
        return out
    }

    private static func littleEndian(_ value: UInt32) -> [UInt8] {
        (0..<4).map { UInt8(truncatingIfNeeded: value >> (8 * $0)) }
    }
}

/// CRC-32C (Castagnoli, reflected polynomial 0x82F63B78), the checksum of TFRecord framing.
public enum CRC32C {
    private static let table: [UInt32] = (0..<256).map { byte in
        var crc = UInt32(byte)
        for _ in 0..<8 { crc = crc & 1 == 1 ? (crc >> 1) ^ 0x82F6_3B78 : crc >> 1 }
        return crc
    }

    public static func checksum<Bytes: Sequence>(_ bytes: Bytes) -> UInt32 where Bytes.Element == UInt8 {
        var crc: UInt32 = 0xFFFF_FFFF
        for byte in bytes { crc = table[Int((crc ^ UInt32(byte)) & 0xFF)] ^ (crc >> 8) }
        return crc ^ 0xFFFF_FFFF
    }

    /// The checksum as TFRecord stores it: rotated right by 15 bits plus a constant, so that a
    /// CRC of data holding CRCs stays informative.
    public static func masked<Bytes: Sequence>(_ bytes: Bytes) -> UInt32 where Bytes.Element == UInt8 {
        let crc = checksum(bytes)
        return ((crc >> 15) | (crc << 17)) &+ 0xA282_EAD8
    }
}

/// The few protobuf wire encodings an event needs: varints (wire type 0), 64-bit (1),
/// length-delimited (2) and 32-bit (5) fields.
struct ProtobufWriter {
    private(set) var bytes: [UInt8] = []

    private mutating func key(_ field: Int, _ wireType: UInt64) { appendVarint(UInt64(field) << 3 | wireType) }

    private mutating func appendVarint(_ value: UInt64) {
        var v = value
        while v >= 0x80 {
            bytes.append(UInt8(v & 0x7F) | 0x80)
            v >>= 7
        }
        bytes.append(UInt8(v))
    }

    mutating func varint(field: Int, _ value: UInt64) {
        key(field, 0)
        appendVarint(value)
    }

    mutating func double(field: Int, _ value: Double) {
        key(field, 1)
        let bits = value.bitPattern
        bytes += (0..<8).map { UInt8(truncatingIfNeeded: bits >> (8 * $0)) }
    }

    mutating func float(field: Int, _ value: Float) {
        key(field, 5)
        let bits = value.bitPattern
        bytes += (0..<4).map { UInt8(truncatingIfNeeded: bits >> (8 * $0)) }
    }

    mutating func message(field: Int, _ data: [UInt8]) {
        key(field, 2)
        appendVarint(UInt64(data.count))
        bytes += data
    }

    mutating func string(field: Int, _ text: String) { message(field: field, Array(text.utf8)) }
}

/// A run's TensorBoard event file, `events.out.tfevents.metarl`: every row of `progress.csv`
/// (one event per iteration, a scalar per numeric column, tagged by column name) and of
/// `eval.csv` (under `eval/`). The file is derived from the two logs and written beside them at
/// each save: whole at the first save of a process (so a resumed run's file holds exactly the
/// kept rows), then by appending the new rows' events.
public struct TensorBoardLog: Sendable {
    public static let fileName = "events.out.tfevents.metarl"

    public let url: URL
    /// Whether evaluations are indexed by the episode of a trial rather than adaptation steps.
    private let trialEpisodes: Bool
    private var progressRows = 0, evaluationRows = 0
    private var started = false

    /// - Parameter trialEpisodes: whether evaluations are indexed by the episode of a trial
    ///   (memory-based learners) rather than by adaptation steps.
    public init(directory: URL, trialEpisodes: Bool) {
        url = directory.appendingPathComponent(Self.fileName)
        self.trialEpisodes = trialEpisodes
    }

    /// The tag of an evaluation at adaptation step (or episode of a trial) k, from 0.
    private func evaluationTag(_ k: Int) -> String {
        trialEpisodes ? "eval/return_episode_\(k + 1)" : "eval/return_after_\(k)_steps"
    }

    /// Columns that are not scalars of an iteration.
    private static let progressOmitted: Set<String> = ["iteration", "time/wall"]

    /// Writes the events of the rows not yet written.
    public mutating func save(progress: CSVLog, evaluations: CSVLog?, whole: Bool = false) throws {
        var bytes: [UInt8] = []
        if whole || !started {
            let first = progress.values(ofRows: 0..<Swift.min(1, progress.rows.count)).first?["time/wall"]
            bytes += TensorBoardEvents.versionRecord(wallTime: first ?? Date().timeIntervalSince1970)
            (progressRows, evaluationRows) = (0, 0)
        }
        for values in progress.values(ofRows: progressRows..<progress.rows.count) {
            guard let iteration = values["iteration"] else { continue }
            let scalars = progress.columns.filter { !Self.progressOmitted.contains($0) }.compactMap { column in
                values[column].map { (tag: column, value: $0) }
            }
            bytes += TensorBoardEvents.scalarsRecord(step: Int(iteration), wallTime: values["time/wall"] ?? 0, scalars: scalars)
        }
        progressRows = progress.rows.count
        if let evaluations {
            for values in evaluations.values(ofRows: evaluationRows..<evaluations.rows.count) {
                guard let iteration = values["iteration"], let step = values["step"], let mean = values["mean_return"] else { continue }
                var scalars = [(tag: evaluationTag(Int(step)), value: mean)]
                if let rate = values["success_rate"] { scalars.append((tag: evaluationTag(Int(step)) + "_success_rate", value: rate)) }
                bytes += TensorBoardEvents.scalarsRecord(step: Int(iteration), wallTime: values["time/wall"] ?? 0, scalars: scalars)
            }
            evaluationRows = evaluations.rows.count
        }
        if whole || !started {
            try AtomicFile.write(Data(bytes), to: url)
            started = true
        } else if !bytes.isEmpty {
            try AtomicFile.append(Data(bytes), to: url)
        }
    }
}
