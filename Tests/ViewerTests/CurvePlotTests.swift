#if Viewer
import Experiments
import Foundation
import Testing
@testable import Viewer

@Suite("Curve plots")
struct CurvePlotTests {
    @Test("Ticks are round numbers covering the range; labels shorten thousands")
    func ticksAndLabels() {
        #expect(CurvePlot.ticks(0, 97, integer: true) == [0, 20, 40, 60, 80, 100])
        let small = CurvePlot.ticks(-0.3, 0.7, integer: false)
        let expected = [-0.4, -0.2, 0, 0.2, 0.4, 0.6, 0.8]
        #expect(small.count == expected.count && zip(small, expected).allSatisfy { abs($0 - $1) < 1e-12 }, "\(small)")
        #expect(CurvePlot.format(25_000, step: 5_000) == "25k")
        #expect(CurvePlot.format(3_000_000, step: 1_000_000) == "3M")
        #expect(CurvePlot.format(0.25, step: 0.05) == "0.25")
        #expect(CurvePlot.format(-40, step: 20) == "-40")
    }

    @Test("Each setting's line is drawn in its colour, its band only with several seeds")
    func linesInTheirColours() throws {
        func line(_ slope: Double, seeds: Int) -> LearningCurves.Series {
            let x = (0...20).map(Double.init)
            let mean = x.map { $0 * slope }
            return .init(x: x, mean: mean, lower: mean.map { $0 - 3 }, upper: mean.map { $0 + 3 }, seeds: seeds)
        }
        let curves = LearningCurves(settings: [.init(label: "a", after: line(1, seeds: 1)), .init(label: "b", after: line(-1, seeds: 3))],
                                    source: .training, xAxis: .iterations, trialEpisodes: false)
        let canvas = try OffscreenCanvas(width: 800, height: 480, font: try FontFile.locate())
        let plot = CurvePlot(curves: curves, title: "test")
        #expect(!plot.hasAdaptationPanel)
        plot.draw(on: canvas.painter, width: 800, height: 480)
        canvas.painter.flushDrawing()
        var counts = [0, 0]
        var banded = [0, 0]
        /// A setting's colour at the band's opacity (55 of 255) over the plot's background (252).
        func band(_ colour: Color) -> (Int, Int, Int) {
            func blend(_ c: UInt8) -> Int { Int((Double(c) * 55 + 252 * 200) / 255) }
            return (blend(colour.red), blend(colour.green), blend(colour.blue))
        }
        let bands = [band(CurvePlot.colour(0)), band(CurvePlot.colour(1))]
        for y in 0..<480 {
            for x in 0..<800 {
                let p = canvas.pixel(x: x, y: y)
                if p == CurvePlot.colour(0) { counts[0] += 1 }
                if p == CurvePlot.colour(1) { counts[1] += 1 }
                for (i, b) in bands.enumerated()
                where abs(Int(p.red) - b.0) <= 3 && abs(Int(p.green) - b.1) <= 3 && abs(Int(p.blue) - b.2) <= 3 { banded[i] += 1 }
            }
        }
        // Each line runs across the 700-pixel plot and is 2.5 pixels wide (plus its legend sample).
        #expect(counts[0] > 700 && counts[1] > 700, "\(counts)")
        // "b" has three seeds and a band 6 wide around a line across the plot; "a" has one seed and none.
        #expect(banded[1] > 2_000 && banded[0] == 0, "\(banded)")
    }
}
#endif
