/// The viewer's colours. Adaptation steps use the Okabe–Ito palette (distinguishable with the
/// common colour-vision deficiencies); step 0, the unadapted policy, is grey.
public enum Palette {
    public static let background = Color(red: 246, green: 246, blue: 244)
    public static let arena = Color(red: 255, green: 255, blue: 255)
    public static let gridLine = Color(red: 232, green: 232, blue: 232)
    public static let border = Color(red: 150, green: 150, blue: 150)
    public static let text = Color(red: 30, green: 30, blue: 30)
    public static let mutedText = Color(red: 110, green: 110, blue: 110)
    public static let goal = Color(red: 200, green: 30, blue: 45)
    public static let obstacle = Color(red: 80, green: 80, blue: 86)
    public static let start = Color(red: 20, green: 20, blue: 20)
    public static let agentOutline = Color(red: 0, green: 0, blue: 0)
    public static let overlay = Color(red: 255, green: 255, blue: 255, alpha: 235)
    // Gridworld tiles, in MiniGrid's colours where it has them.
    public static let wall = Color(red: 100, green: 100, blue: 104)
    public static let lava = Color(red: 235, green: 110, blue: 30)
    public static let gridGoal = Color(red: 40, green: 170, blue: 70)
    public static let door = Color(red: 215, green: 170, blue: 20)
    public static let agent = Color(red: 215, green: 35, blue: 35)
    public static let viewFootprint = Color(red: 90, green: 140, blue: 230, alpha: 45)

    static let steps: [Color] = [
        Color(red: 140, green: 140, blue: 140),  // before adaptation
        Color(red: 230, green: 159, blue: 0),    // orange
        Color(red: 0, green: 114, blue: 178),    // blue
        Color(red: 0, green: 158, blue: 115),    // bluish green
        Color(red: 204, green: 121, blue: 167),  // reddish purple
        Color(red: 213, green: 94, blue: 0),     // vermilion
        Color(red: 86, green: 180, blue: 233),   // sky blue
    ]

    /// The colour of adaptation step `step` (colours repeat after the seventh).
    public static func step(_ step: Int) -> Color { steps[step % steps.count] }
}

extension Color {
    /// The same colour with another opacity.
    public func withAlpha(_ alpha: UInt8) -> Color { Color(red: red, green: green, blue: blue, alpha: alpha) }
}
