import Foundation

/// A NumPy `.npz` file: a zip archive (stored, not compressed) of `.npy` arrays, which
/// `numpy.load` opens as a dict of arrays with nothing else installed.
///
/// Each `.npy` entry is the magic `\x93NUMPY`, version 1.0, a little-endian header length, a
/// Python-literal header `{'descr': '<f4', 'fortran_order': False, 'shape': (n, d), }` padded
/// with spaces to a multiple of 64 bytes and ended by a newline, then the array's bytes in C
/// order (NEP 1). Entries and the archive stay under 4 GiB (no ZIP64).
public struct NumPyArchive {
    private var entries: [(name: String, data: [UInt8])] = []

    public init() {}

    public mutating func add(_ name: String, float32 values: [Float], shape: [Int]) {
        add(name, littleEndian: values.map(\.bitPattern), descr: "<f4", shape: shape)
    }

    public mutating func add(_ name: String, float64 values: [Double], shape: [Int]) {
        add(name, littleEndian: values.map(\.bitPattern), descr: "<f8", shape: shape)
    }

    public mutating func add(_ name: String, int32 values: [Int32], shape: [Int]) {
        add(name, littleEndian: values.map { UInt32(bitPattern: $0) }, descr: "<i4", shape: shape)
    }

    public mutating func add(_ name: String, int64 values: [Int64], shape: [Int]) {
        add(name, littleEndian: values.map { UInt64(bitPattern: $0) }, descr: "<i8", shape: shape)
    }

    /// Values of NumPy type `descr`, given as their bit patterns, stored little-endian.
    private mutating func add<Bits: FixedWidthInteger & UnsignedInteger>(_ name: String, littleEndian values: [Bits], descr: String,
                                                                        shape: [Int]) {
        precondition(shape.reduce(1, *) == values.count, "\(name): \(values.count) values for shape \(shape)")
        let width = Bits.bitWidth / 8
        var bytes: [UInt8] = []
        bytes.reserveCapacity(values.count * width)
        for v in values { Self.append(v, bytes: width, to: &bytes) }
        entries.append((name, Self.npy(descr: descr, shape: shape, body: bytes)))
    }

    /// Strings as NumPy's fixed-width Unicode (`<U n`, UTF-32); shape [] for a single string.
    public mutating func add(_ name: String, strings: [String], shape: [Int]) {
        precondition(shape.reduce(1, *) == strings.count, "\(name): \(strings.count) strings for shape \(shape)")
        let scalars = strings.map { Array($0.unicodeScalars) }
        let width = max(scalars.map(\.count).max() ?? 1, 1)
        var bytes: [UInt8] = []
        bytes.reserveCapacity(strings.count * width * 4)
        for s in scalars {
            for c in s { Self.append(c.value, bytes: 4, to: &bytes) }
            bytes += [UInt8](repeating: 0, count: (width - s.count) * 4)
        }
        entries.append((name, Self.npy(descr: "<U\(width)", shape: shape, body: bytes)))
    }

    private static func append<T: FixedWidthInteger>(_ value: T, bytes count: Int, to bytes: inout [UInt8]) {
        for i in 0..<count { bytes.append(UInt8(truncatingIfNeeded: value >> (8 * i))) }
    }

    static func npy(descr: String, shape: [Int], body: [UInt8]) -> [UInt8] {
        let dims = shape.count == 1 ? "(\(shape[0]),)" : "(" + shape.map(String.init).joined(separator: ", ") + ")"
        var header = "{'descr': '\(descr)', 'fortran_order': False, 'shape': \(dims), }"
        // magic (6) + version (2) + length (2) + header + newline: a multiple of 64.
        let unpadded = 10 + header.utf8.count + 1
        header += String(repeating: " ", count: (64 - unpadded % 64) % 64) + "\n"
        var out: [UInt8] = [0x93] + Array("NUMPY".utf8) + [1, 0]
        append(UInt16(header.utf8.count), bytes: 2, to: &out)
        out += Array(header.utf8)
        out += body
        return out
    }

    /// The archive's bytes.
    /// - Throws: `RunError.cannotWrite` when it would pass the 4 GiB of a zip file without ZIP64.
    public func encoded(path: String) throws -> Data {
        var out: [UInt8] = [], directory: [UInt8] = []
        let limit = Int(UInt32.max)
        for (name, data) in entries {
            let file = Array((name + ".npy").utf8)
            let crc = CRC32.checksum(data)
            let offset = out.count
            guard data.count < limit, offset < limit else {
                throw RunError.cannotWrite(path: path, reason: "more than 4 GiB of episodes; evaluate fewer tasks or episodes")
            }
            // Local file header: stored (method 0), no data descriptor.
            Self.append(UInt32(0x0403_4B50), bytes: 4, to: &out)
            for v: UInt16 in [20, 0, 0, 0, 0x21] { Self.append(v, bytes: 2, to: &out) }   // version, flags, method, time, date (1980-01-01)
            Self.append(crc, bytes: 4, to: &out)
            Self.append(UInt32(data.count), bytes: 4, to: &out)
            Self.append(UInt32(data.count), bytes: 4, to: &out)
            Self.append(UInt16(file.count), bytes: 2, to: &out)
            Self.append(UInt16(0), bytes: 2, to: &out)
            out += file
            out += data
            // Its central directory entry.
            Self.append(UInt32(0x0201_4B50), bytes: 4, to: &directory)
            for v: UInt16 in [20, 20, 0, 0, 0, 0x21] { Self.append(v, bytes: 2, to: &directory) }
            Self.append(crc, bytes: 4, to: &directory)
            Self.append(UInt32(data.count), bytes: 4, to: &directory)
            Self.append(UInt32(data.count), bytes: 4, to: &directory)
            Self.append(UInt16(file.count), bytes: 2, to: &directory)
            for _ in 0..<4 { Self.append(UInt16(0), bytes: 2, to: &directory) }   // extra, comment, disk, internal attributes
            Self.append(UInt32(0), bytes: 4, to: &directory)                       // external attributes
            Self.append(UInt32(offset), bytes: 4, to: &directory)
            directory += file
        }
        let start = out.count
        guard start < limit else { throw RunError.cannotWrite(path: path, reason: "more than 4 GiB of episodes; evaluate fewer tasks or episodes") }
        out += directory
        // End of central directory.
        Self.append(UInt32(0x0605_4B50), bytes: 4, to: &out)
        Self.append(UInt16(0), bytes: 2, to: &out)
        Self.append(UInt16(0), bytes: 2, to: &out)
        Self.append(UInt16(entries.count), bytes: 2, to: &out)
        Self.append(UInt16(entries.count), bytes: 2, to: &out)
        Self.append(UInt32(directory.count), bytes: 4, to: &out)
        Self.append(UInt32(start), bytes: 4, to: &out)
        Self.append(UInt16(0), bytes: 2, to: &out)
        return Data(out)
    }

    /// Writes the archive atomically.
    public func write(to url: URL) throws {
        try AtomicFile.write(try encoded(path: url.path), to: url)
    }
}

/// CRC-32 (IEEE 802.3, reflected polynomial 0xEDB88320), the checksum of zip entries.
enum CRC32 {
    private static let table: [UInt32] = (0..<256).map { byte in
        var crc = UInt32(byte)
        for _ in 0..<8 { crc = crc & 1 == 1 ? (crc >> 1) ^ 0xEDB8_8320 : crc >> 1 }
        return crc
    }

    static func checksum(_ bytes: [UInt8]) -> UInt32 {
        var crc: UInt32 = 0xFFFF_FFFF
        for byte in bytes { crc = table[Int((crc ^ UInt32(byte)) & 0xFF)] ^ (crc >> 8) }
        return crc ^ 0xFFFF_FFFF
    }
}
