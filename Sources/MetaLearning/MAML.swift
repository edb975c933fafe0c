import Autodiff

/// MAML (Finn, Abbeel & Levine 2017) with each outer optimiser, first-order MAML, and the
/// pretrained baseline, as registry entries. All differentiate the post-adaptation surrogate
/// through the policy-gradient inner step (`PolicyGradientStep`); they differ in the step on it.
extension MAMLTRPO {
    /// A MAML learner called `name` whose optimiser is `settings.outer`, or `defaultOuter`.
    static func learner(_ name: String, policy: Policy, settings: MetaLearnerSettings, defaultOuter: String,
                        firstOrder: Bool = false, innerSteps: Int? = nil) -> GradientMetaLearner {
        var h = settings.maml
        if firstOrder { h.firstOrder = true }
        return GradientMetaLearner(name: name, policy: policy, inner: h, trainingInnerSteps: innerSteps,
                                   rule: PolicyGradientStep(objective: h.innerObjective, firstOrder: h.firstOrder),
                                   optimizer: OuterOptimizers.make(settings.outer.isEmpty ? defaultOuter : settings.outer, settings))
    }

    public static let entry = MetaLearnerEntry(
        name: "maml-trpo", summary: "MAML, exact second-order meta-gradient, TRPO step",
        paper: "Finn et al. 2017", metaLearned: "θ", outers: ["trpo", "adam", "ppo"]
    ) { policy, settings, _ in learner("maml-trpo", policy: policy, settings: settings, defaultOuter: "trpo") }

    public static let vpgEntry = MetaLearnerEntry(
        name: "maml-vpg", summary: "MAML, one Adam step on the meta-gradient (VPG)",
        paper: "Finn et al. 2017", metaLearned: "θ", outers: ["adam", "trpo", "ppo"]
    ) { policy, settings, _ in learner("maml-vpg", policy: policy, settings: settings, defaultOuter: "adam") }

    public static let ppoEntry = MetaLearnerEntry(
        name: "maml-ppo", summary: "MAML, PPO's clipped surrogate, several Adam epochs",
        paper: "Finn et al. 2017; Schulman et al. 2017", metaLearned: "θ", outers: ["ppo", "trpo", "adam"]
    ) { policy, settings, _ in learner("maml-ppo", policy: policy, settings: settings, defaultOuter: "ppo") }

    public static let firstOrderEntry = MetaLearnerEntry(
        name: "fo-maml", summary: "first-order MAML (dθ'/dθ taken as the identity)",
        paper: "Finn et al. 2017", metaLearned: "θ", outers: ["trpo", "adam", "ppo"]
    ) { policy, settings, _ in learner("fo-maml", policy: policy, settings: settings, defaultOuter: "trpo", firstOrder: true) }

    public static let pretrainedEntry = MetaLearnerEntry(
        name: "pretrained", summary: "the baseline: one policy for all tasks, no inner step",
        paper: "Finn et al. 2017, §5.3", metaLearned: "θ (no adaptation in training)", outers: ["trpo", "adam", "ppo"]
    ) { policy, settings, _ in learner("pretrained", policy: policy, settings: settings, defaultOuter: "trpo", innerSteps: 0) }
}
