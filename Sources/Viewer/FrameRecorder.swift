#if Viewer
import Dispatch
import Foundation

/// Where `watch --record` puts a playback: PNG frames in a folder, or one video file encoded by
/// `ffmpeg` from raw frames piped to it.
public enum RecordingTarget: Sendable, Equatable {
    case frames(URL)
    case video(URL, VideoFormat)

    /// A path ending in .mp4, .webm or .gif is a video; anything else a folder of frames.
    public init(path: String) {
        let url = URL(fileURLWithPath: path)
        if let format = VideoFormat(rawValue: url.pathExtension.lowercased()) { self = .video(url, format) } else { self = .frames(url) }
    }
}

/// The video formats `watch --record FILE` writes, and how ffmpeg encodes each.
public enum VideoFormat: String, Sendable, CaseIterable {
    /// H.264 in MP4, for talks and web pages (`yuv420p` so every player opens it).
    case mp4
    /// VP8 in WebM.
    case webm
    /// An animated GIF with a palette made from the frames themselves, for a README.
    case gif

    var encoderArguments: [String] {
        switch self {
        case .mp4: ["-c:v", "libx264", "-preset", "veryfast", "-crf", "23", "-pix_fmt", "yuv420p", "-movflags", "+faststart"]
        case .webm: ["-c:v", "libvpx", "-deadline", "realtime", "-cpu-used", "8", "-b:v", "2M", "-pix_fmt", "yuv420p"]
        case .gif: ["-vf", "split[a][b];[a]palettegen=max_colors=128:stats_mode=diff[p];[b][p]paletteuse=dither=bayer:bayer_scale=3"]
        }
    }
}

/// Why a recording could not be made.
public enum RecordingError: Error, CustomStringConvertible, Equatable {
    case ffmpegMissing(format: VideoFormat)
    case encoderFailed(path: String, status: Int32, message: String)

    public var description: String {
        switch self {
        case .ffmpegMissing(let format):
            "--record …\(format.rawValue) encodes with ffmpeg, which is not on the PATH; install it (Debian: apt-get install ffmpeg), or give --record a folder for PNG frames"
        case .encoderFailed(let path, let status, let message):
            "ffmpeg could not write \(path) (status \(status))\(message.isEmpty ? "" : ": \(message)")"
        }
    }
}

/// Whether the encoder `--record FILE` needs is there.
public enum VideoEncoderCheck {
    public static var ffmpeg: URL? { VideoEncoder.locateFFmpeg() }
}

/// An `ffmpeg` process reading raw RGBA frames on its standard input and writing one video file,
/// under a temporary name until it has finished (a failed or interrupted encoding leaves no file).
/// Frames go down the pipe from a thread of their own, a few frames behind, so that the next frame
/// is drawn while ffmpeg takes the last.
final class VideoEncoder: @unchecked Sendable {
    // @unchecked: `failed` is guarded by `lock`; the pipe is written by `writer` alone.
    private let process = Process()
    private let input = Pipe()
    private let errors = Pipe()
    private let url: URL
    private let partial: URL
    private let writer = DispatchQueue(label: "metarl.video")
    private let inFlight = DispatchSemaphore(value: 3)
    private let lock = NSLock()
    private var failed = false

    /// The ffmpeg on the PATH, or nil.
    static func locateFFmpeg(environment: [String: String] = ProcessInfo.processInfo.environment) -> URL? {
        for folder in (environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":") {
            let candidate = URL(fileURLWithPath: String(folder)).appendingPathComponent("ffmpeg")
            if FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate }
        }
        return nil
    }

    init(url: URL, format: VideoFormat, width: Int, height: Int, framesPerSecond: Double) throws {
        guard let ffmpeg = Self.locateFFmpeg() else { throw RecordingError.ffmpegMissing(format: format) }
        self.url = url
        partial = url.deletingLastPathComponent().appendingPathComponent(".\(url.deletingPathExtension().lastPathComponent).partial-\(getpid()).\(format.rawValue)")
        process.executableURL = ffmpeg
        process.arguments = ["-y", "-loglevel", "error", "-f", "rawvideo", "-pix_fmt", "rgba", "-s", "\(width)x\(height)",
                             "-r", String(format: "%.3f", framesPerSecond), "-i", "-"] + format.encoderArguments + [partial.path]
        process.standardInput = input
        process.standardOutput = FileHandle.nullDevice
        process.standardError = errors
        try process.run()
        // A broken pipe (ffmpeg gone) is an error to report, not a signal that ends MetaRL.
        signal(SIGPIPE, SIG_IGN)
    }

    /// Queues one frame (width × height × 4 bytes).
    /// - Throws: `RecordingError.encoderFailed` once ffmpeg has stopped reading.
    func write(_ frame: [UInt8]) throws {
        if lock.withLock({ failed }) { try finish() }
        inFlight.wait()
        let fd = input.fileHandleForWriting.fileDescriptor
        writer.async { [self] in
            defer { inFlight.signal() }
            guard !lock.withLock({ failed }) else { return }
            let ok = frame.withUnsafeBytes { bytes -> Bool in
                var offset = 0
                while offset < bytes.count {
                    let n = Foundation.write(fd, bytes.baseAddress! + offset, bytes.count - offset)
                    if n < 0 { if errno == EINTR { continue }; return false }
                    offset += n
                }
                return true
            }
            if !ok { lock.withLock { failed = true } }
        }
    }

    /// Ends the input, waits for ffmpeg and moves the video into place.
    func finish() throws {
        writer.sync {}
        try? input.fileHandleForWriting.close()
        let message = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            .trimmingCharacters(in: .whitespacesAndNewlines)
        process.waitUntilExit()
        guard process.terminationStatus == 0, !lock.withLock({ failed }) else {
            try? FileManager.default.removeItem(at: partial)
            throw RecordingError.encoderFailed(path: url.path, status: process.terminationStatus,
                                               message: message.isEmpty ? "it stopped reading frames" : String(message.suffix(400)))
        }
        guard rename(partial.path, url.path) == 0 else {
            let reason = String(cString: strerror(errno))
            try? FileManager.default.removeItem(at: partial)
            throw RecordingError.encoderFailed(path: url.path, status: 0, message: reason)
        }
    }
}

/// PNG frames encoded on a few threads while the next frames are drawn: drawing stays on the
/// calling thread (the canvas is not shared), compression, the slow part, runs beside it.
final class ParallelPNGWriter: @unchecked Sendable {
    // @unchecked: `failure` is guarded by `lock`; the queue and semaphore are thread-safe.
    private let queue = DispatchQueue(label: "metarl.png", attributes: .concurrent)
    private let group = DispatchGroup()
    private let slots: DispatchSemaphore
    private let lock = NSLock()
    private var failure: (any Error)?

    init(workers: Int) { slots = DispatchSemaphore(value: max(workers, 1) * 2) }

    func write(_ pixels: [UInt8], width: Int, height: Int, to path: String) throws {
        if let failure = lock.withLock({ failure }) { throw failure }
        slots.wait()
        group.enter()
        queue.async { [self] in
            defer { slots.signal(); group.leave() }
            do { try OffscreenCanvas.savePNG(pixels: pixels, width: width, height: height, to: path) } catch {
                lock.withLock { if failure == nil { failure = error } }
            }
        }
    }

    /// Waits for every frame; throws the first failure.
    func finish() throws {
        group.wait()
        if let failure = lock.withLock({ failure }) { throw failure }
    }
}
#endif
