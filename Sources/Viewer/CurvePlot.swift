#if Viewer
import Experiments
import Foundation

/// `metarl plot`'s picture: the learning curves of each setting (mean over seeds, a 95% band,
/// after adaptation as a thick line and before it as a thin one) and, when the runs have
/// evaluations, the adaptation curve of their last one beside it. One colour per setting.
public struct CurvePlot {
    public let curves: LearningCurves
    public let title: String

    public init(curves: LearningCurves, title: String) {
        self.curves = curves
        self.title = title
    }

    /// Whether there is an adaptation panel to draw.
    public var hasAdaptationPanel: Bool { curves.settings.contains { $0.adaptation != nil } }

    /// Draws the picture into a PNG file.
    /// - Throws: `CanvasError`, `FontError`.
    public func render(to path: String, width: Int, height: Int) throws {
        let canvas = try OffscreenCanvas(width: width, height: height, font: try FontFile.locate())
        draw(on: canvas.painter, width: Double(width), height: Double(height))
        try canvas.savePNG(to: path)
    }

    static func colour(_ index: Int) -> Color { Palette.step(index + 1) }

    func draw(on painter: Painter, width: Double, height: Double) {
        painter.clear(Color(red: 255, green: 255, blue: 255))
        painter.text(title, x: 16, y: 10, size: .title, maxWidth: width - 32, Palette.text)
        let legendHeight = 26.0 * Double((curves.settings.count + 1) / 2) + 30
        let top = 44.0, bottom = height - legendHeight
        let split = hasAdaptationPanel ? width * 0.64 : width
        let learningTitle = curves.source == .training ? "Mean return in meta-training (the meta-batch's tasks)"
            : "Mean return on held-out tasks during meta-training"
        let xLabel = curves.xAxis == .iterations ? "meta-iteration" : "environment steps"
        var lines: [(series: LearningCurves.Series, colour: Color, thick: Bool)] = []
        for (i, setting) in curves.settings.enumerated() {
            if let before = setting.before { lines.append((before, Self.colour(i), false)) }
            if let after = setting.after { lines.append((after, Self.colour(i), true)) }
        }
        drawPanel(on: painter, frame: PixelRect(x: 0, y: top, width: split, height: bottom - top), title: learningTitle,
                  xLabel: xLabel, lines: lines, markers: false, integerX: curves.xAxis == .iterations)
        if hasAdaptationPanel {
            let adaptationLines = curves.settings.enumerated().compactMap { i, s in s.adaptation.map { ($0, Self.colour(i), true) } }
            let unit = curves.trialEpisodes ? "episode of the trial (from 0)" : "adaptation steps"
            drawPanel(on: painter, frame: PixelRect(x: split, y: top, width: width - split, height: bottom - top),
                      title: "Mean return at the last evaluation (held-out)", xLabel: unit,
                      lines: adaptationLines, markers: true, integerX: true)
        }
        drawLegend(on: painter, top: bottom + 8, width: width)
    }

    private func drawLegend(on painter: Painter, top: Double, width: Double) {
        let columnWidth = (width - 40) / 2
        for (i, setting) in curves.settings.enumerated() {
            let x = 20 + Double(i % 2) * columnWidth, y = top + Double(i / 2) * 26
            painter.polyline([(x, y + 9), (x + 28, y + 9)], width: 3, Self.colour(i))
            let seeds = max(setting.after?.seeds ?? 0, setting.adaptation?.seeds ?? 0)
            painter.text("\(setting.label)  (\(seeds) seed\(seeds == 1 ? "" : "s"))", x: x + 36, y: y, size: .body,
                         maxWidth: columnWidth - 44, Palette.text)
        }
        let y = top + 26 * Double((curves.settings.count + 1) / 2)
        let before = curves.trialEpisodes ? "first episode of a trial" : "before adaptation"
        let after = curves.trialEpisodes ? "last episode" : "after adaptation"
        painter.text("thick: \(after); thin: \(before); bands: 95% confidence interval over seeds (Student's t)",
                     x: 20, y: y, size: .small, maxWidth: width - 40, Palette.mutedText)
    }

    private func drawPanel(on painter: Painter, frame: PixelRect, title: String, xLabel: String,
                           lines: [(series: LearningCurves.Series, colour: Color, thick: Bool)], markers: Bool, integerX: Bool) {
        let plot = PixelRect(x: frame.x + 78, y: frame.y + 30, width: frame.width - 100, height: frame.height - 78)
        painter.text(title, x: plot.x, y: frame.y + 4, size: .body, maxWidth: frame.width - 90, Palette.text)
        guard !lines.isEmpty, plot.width > 40, plot.height > 40 else {
            painter.text("no data", x: plot.x + 10, y: plot.y + 10, size: .body, Palette.mutedText)
            return
        }
        let xs = lines.flatMap(\.series.x), ys = lines.flatMap { $0.series.lower + $0.series.upper }
        var xRange = (xs.min()!, xs.max()!), yRange = (ys.min()!, ys.max()!)
        if xRange.0 == xRange.1 { xRange = (xRange.0 - 1, xRange.1 + 1) }
        if yRange.0 == yRange.1 { yRange = (yRange.0 - 1, yRange.1 + 1) }
        let xTicks = Self.ticks(xRange.0, xRange.1, integer: integerX), yTicks = Self.ticks(yRange.0, yRange.1, integer: false)
        xRange = (min(xRange.0, xTicks.first!), max(xRange.1, xTicks.last!))
        if markers {
            // Room for the first and last markers.
            let pad = (xRange.1 - xRange.0) * 0.06
            xRange = (xRange.0 - pad, xRange.1 + pad)
        }
        yRange = (min(yRange.0, yTicks.first!), max(yRange.1, yTicks.last!))
        func px(_ x: Double) -> Double { plot.x + (x - xRange.0) / (xRange.1 - xRange.0) * plot.width }
        func py(_ y: Double) -> Double { plot.y + plot.height - (y - yRange.0) / (yRange.1 - yRange.0) * plot.height }

        painter.fill(plot, Color(red: 252, green: 252, blue: 252))
        for t in yTicks {
            painter.fill(PixelRect(x: plot.x, y: py(t), width: plot.width, height: 1), Palette.gridLine)
            let label = Self.format(t, step: yTicks.count > 1 ? yTicks[1] - yTicks[0] : 1)
            let size = painter.measure(label, size: .small)
            painter.text(label, x: plot.x - 8 - Double(size.width), y: py(t) - Double(size.height) / 2, size: .small, Palette.mutedText)
        }
        for t in xTicks {
            painter.fill(PixelRect(x: px(t), y: plot.y, width: 1, height: plot.height), Palette.gridLine)
            let label = Self.format(t, step: xTicks.count > 1 ? xTicks[1] - xTicks[0] : 1)
            let size = painter.measure(label, size: .small)
            painter.text(label, x: px(t) - Double(size.width) / 2, y: plot.y + plot.height + 6, size: .small, Palette.mutedText)
        }
        painter.stroke(plot, Palette.border)
        let xSize = painter.measure(xLabel, size: .body)
        painter.text(xLabel, x: plot.x + (plot.width - Double(xSize.width)) / 2, y: plot.y + plot.height + 26, size: .body, Palette.text)

        painter.clip(to: plot)
        for line in lines where line.series.seeds > 1 {
            let s = line.series
            let band = line.colour.withAlpha(line.thick ? 55 : 30)
            for i in 1..<max(s.x.count, 1) {
                let a = (px(s.x[i - 1]), py(s.upper[i - 1])), b = (px(s.x[i]), py(s.upper[i]))
                let c = (px(s.x[i]), py(s.lower[i])), d = (px(s.x[i - 1]), py(s.lower[i - 1]))
                painter.fillTriangle(a, b, c, band)
                painter.fillTriangle(a, c, d, band)
            }
        }
        for line in lines {
            let points = zip(line.series.x, line.series.mean).map { (px($0), py($1)) }
            painter.polyline(points, width: line.thick ? 2.5 : 1.2, line.thick ? line.colour : line.colour.withAlpha(190))
            if markers {
                for (i, p) in points.enumerated() {
                    painter.fillCircle(center: p, radius: 4, line.colour)
                    if line.series.seeds > 1 {
                        // The interval as an error bar.
                        painter.fill(PixelRect(x: p.0 - 0.75, y: py(line.series.upper[i]), width: 1.5,
                                               height: max(py(line.series.lower[i]) - py(line.series.upper[i]), 1)), line.colour)
                    }
                }
            }
        }
        painter.clip(to: nil)
    }

    /// About five round ticks covering [low, high].
    static func ticks(_ low: Double, _ high: Double, integer: Bool) -> [Double] {
        let raw = (high - low) / 5
        let magnitude = pow(10, floor(log10(raw)))
        var step = [1.0, 2, 2.5, 5, 10].map { $0 * magnitude }.first { $0 >= raw } ?? 10 * magnitude
        if integer { step = max(step.rounded(), 1) }
        let first = floor(low / step) * step
        var ticks: [Double] = []
        var t = first
        while t <= high + step * 1e-9 {
            ticks.append(t)
            t += step
        }
        if ticks.last! < high { ticks.append(ticks.last! + step) }
        return ticks
    }

    /// A tick's label: as many decimals as its step needs; thousands as k, millions as M.
    static func format(_ value: Double, step: Double) -> String {
        if abs(value) >= 1e6 && step >= 1e5 { return String(format: "%gM", value / 1e6) }
        if abs(value) >= 1e4 && step >= 1e3 { return String(format: "%gk", value / 1e3) }
        let decimals = step >= 1 ? 0 : Int(ceil(-log10(step)))
        return String(format: "%.\(decimals)f", value)
    }
}
#endif
