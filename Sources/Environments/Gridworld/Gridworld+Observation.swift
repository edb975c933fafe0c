extension GridworldBatch {
    /// Writes every environment's observation, as `GridworldFamily.ObservationMode` describes.
    mutating func writeObservations(into observations: inout [Float]) {
        let n = observationSize
        precondition(observations.count == n * count, "observation buffer of \(observations.count) for \(count)×\(n)")
        let (w, h) = (mapWidth, mapHeight)
        let turns = family.actions.turns
        states.withUnsafeBufferPointer { states in
            observations.withUnsafeMutableBufferPointer { out in
                switch family.observation {
                case .coordinates:
                    for i in 0..<count {
                        let s = states[i]
                        out[i * n] = Float(s.x)
                        out[i * n + 1] = Float(s.y)
                        if turns { out[i * n + 2] = Float(s.heading) }
                    }
                case .oneHot:
                    for i in 0..<count {
                        let s = states[i]
                        let row = UnsafeMutableBufferPointer(rebasing: out[(i * n)..<((i + 1) * n)])
                        row.update(repeating: 0)
                        row[Int(s.y) * w + Int(s.x)] = 1
                        if turns { row[w * h + Int(s.heading)] = 1 }
                    }
                case .grid:
                    writeFullGrids(states, out, width: w, height: h)
                case .egocentric(let size, let occlusion):
                    writeViews(states, out, size: size, occlusion: occlusion)
                }
            }
        }
    }

    /// The whole map, (object, colour, state) per cell in row-major order, the agent as
    /// (10, 0, heading) — MiniGrid's `FullyObsWrapper`.
    private func writeFullGrids(_ states: UnsafeBufferPointer<AgentState>, _ out: UnsafeMutableBufferPointer<Float>,
                                width w: Int, height h: Int) {
        let n = 3 * w * h
        CellPalette.encodings.withUnsafeBufferPointer { encodings in
            grids.withUnsafeBufferPointer { grids in
                for i in 0..<count {
                    var k = i * n
                    for y in 0..<h {
                        let row = i * cellsPerGrid + (y + padding) * paddedWidth + padding
                        for x in 0..<w {
                            let e = 3 * Int(grids[row + x])
                            out[k] = encodings[e]; out[k + 1] = encodings[e + 1]; out[k + 2] = encodings[e + 2]
                            k += 3
                        }
                    }
                    let s = states[i]
                    let agent = i * n + 3 * (Int(s.y) * w + Int(s.x))
                    out[agent] = Float(GridCell.Object.agent.rawValue)
                    out[agent + 1] = Float(GridCell.Color.red.rawValue)
                    out[agent + 2] = Float(s.heading)
                }
            }
        }
    }

    /// For each heading, the offset in the padded grid of every view cell from the agent's cell.
    /// View cell (vx, vy), the agent at (size/2, size − 1) facing up, lies
    /// `size − 1 − vy` cells ahead and `vx − size/2` cells to the right.
    func viewOffsets(size: Int) -> [[Int]] {
        (0..<4).map { heading in
            let forward = Heading.steps[heading]
            let right = GridPoint(-forward.y, forward.x)
            return (0..<(size * size)).map { v in
                let (vx, vy) = (v / size, v % size)
                let ahead = size - 1 - vy, side = vx - size / 2
                return (forward.y * ahead + right.y * side) * paddedWidth + forward.x * ahead + right.x * side
            }
        }
    }

    /// MiniGrid's egocentric view: `size × size` cells of (object, colour, state), in the order of
    /// MiniGrid's `image` flattened — x (to the agent's right) major, then y (away from it).
    /// The agent's own cell shows what it carries, or empty. With `occlusion`, a cell is seen only
    /// if light reaches it from the agent through transparent cells (MiniGrid's `process_vis`);
    /// unseen cells are (0, 0, 0).
    private mutating func writeViews(_ states: UnsafeBufferPointer<AgentState>, _ out: UnsafeMutableBufferPointer<Float>,
                                     size k: Int, occlusion: Bool) {
        let n = 3 * k * k
        let agentView = (k / 2) * k + (k - 1)
        let (count, cellsPerGrid, padding, paddedWidth) = (self.count, self.cellsPerGrid, self.padding, self.paddedWidth)
        viewOffsetTable.withUnsafeBufferPointer { offsets in
        CellPalette.encodings.withUnsafeBufferPointer { encodings in
        CellPalette.flags.withUnsafeBufferPointer { flags in
        grids.withUnsafeBufferPointer { grids in
        viewCodes.withUnsafeMutableBufferPointer { codes in
        viewVisible.withUnsafeMutableBufferPointer { visible in
            for i in 0..<count {
                let s = states[i]
                let agent = i * cellsPerGrid + (Int(s.y) + padding) * paddedWidth + Int(s.x) + padding
                let table = Int(s.heading) * k * k
                for v in 0..<(k * k) { codes[v] = grids[agent + offsets[table + v]] }
                codes[agentView] = s.carrying == AgentState.nothing ? CellPalette.emptyCode : s.carrying
                if occlusion {
                    Self.propagateVisibility(codes: codes, flags: flags, visible: visible, size: k)
                }
                var o = i * n
                for v in 0..<(k * k) {
                    if occlusion && !visible[v] {
                        out[o] = 0; out[o + 1] = 0; out[o + 2] = 0
                    } else {
                        let e = 3 * Int(codes[v])
                        out[o] = encodings[e]; out[o + 1] = encodings[e + 1]; out[o + 2] = encodings[e + 2]
                    }
                    o += 3
                }
            }
        }
        }
        }
        }
        }
        }
    }

    /// MiniGrid's `Grid.process_vis` on a view (index x·size + y, the agent at the bottom centre):
    /// light spreads from the agent row by row, away from it, sideways and one row further through
    /// every cell that does not block it.
    @inline(__always)
    static func propagateVisibility(codes: UnsafeMutableBufferPointer<UInt8>, flags: UnsafeBufferPointer<UInt8>,
                                    visible: UnsafeMutableBufferPointer<Bool>, size k: Int) {
        visible.update(repeating: false)
        visible[(k / 2) * k + (k - 1)] = true
        @inline(__always) func passesLight(_ x: Int, _ y: Int) -> Bool {
            flags[Int(codes[x * k + y])] & CellPalette.transparentBit != 0
        }
        for y in stride(from: k - 1, through: 0, by: -1) {
            for x in 0..<(k - 1) where visible[x * k + y] && passesLight(x, y) {
                visible[(x + 1) * k + y] = true
                if y > 0 {
                    visible[(x + 1) * k + y - 1] = true
                    visible[x * k + y - 1] = true
                }
            }
            for x in stride(from: k - 1, through: 1, by: -1) where visible[x * k + y] && passesLight(x, y) {
                visible[(x - 1) * k + y] = true
                if y > 0 {
                    visible[(x - 1) * k + y - 1] = true
                    visible[x * k + y - 1] = true
                }
            }
        }
    }
}
