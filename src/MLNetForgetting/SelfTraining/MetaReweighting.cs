using MLNetForgetting.Modeling;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace MLNetForgetting.SelfTraining;

/// <summary>The outcome of one meta re-weighting step.</summary>
/// <param name="Weights">w (N), non-negative, summing to 1 (or all 0); detached, on the model's device.</param>
/// <param name="EpsilonGradient">g = ∂Lˡ(θ′)/∂ε (N), detached.</param>
internal sealed record MetaWeights(Tensor Weights, Tensor EpsilonGradient);

/// <summary>
/// Meta re-weighting of pseudo-labelled examples ([REN] / LiST, docs/methods.md §3.3 and §4.1), computed by
/// <b>gradient alignment</b> (§4.1 method B): with v = ∇_θ Lˡ(θ) (detached) and ε = 0,
/// g = ∂Lˡ(θ − α∇_θ Σεᵢℓᵢ)/∂ε = −α ∂(v · ∇_θ Σεᵢℓᵢ)/∂ε, one double-backward pass instead of a
/// second, functional forward with substituted weights (method A). At ε = 0 both give
/// gᵢ = −α v·∇ℓᵢ exactly; <see cref="PerExampleOracle"/> (method C) computes that one example at a time.
/// </summary>
internal static class MetaReweighting
{
    /// <summary>Per-example KL(p_T ‖ p_S) summed over classes: (N).</summary>
    /// <param name="teacherProbabilities">p_T (N, C), rows summing to 1.</param>
    /// <param name="studentLogits">(N, C).</param>
    public static Tensor KlPerExample(Tensor teacherProbabilities, Tensor studentLogits)
    {
        using var logP = functional.log_softmax(studentLogits, -1);
        // TorchSharp's kl_div defaults to log_target = true (PyTorch: false); our target is probabilities.
        using var kl = functional.kl_div(logP, teacherProbabilities, false, Reduction.None);
        return kl.sum(-1);
    }

    /// <summary>
    /// Method B. Puts <paramref name="student"/> in eval mode for the step and restores its mode after.
    /// Runs in its own dispose scope; only the returned tensors survive.
    /// </summary>
    /// <param name="student">The model being trained.</param>
    /// <param name="parameters">θ: the trainable parameters (adapters + head).</param>
    /// <param name="unlabelled">The pseudo-labelled batch x_u.</param>
    /// <param name="teacherProbabilities">p_T for x_u (N, C).</param>
    /// <param name="meta">The labelled meta batch (labels ≥ 0).</param>
    /// <param name="alpha">Virtual SGD step size α (LiST: 5e-6; only its sign matters for w).</param>
    public static MetaWeights GradientAlignment(PromptClassifier student, IReadOnlyList<Parameter> parameters, PromptBatch unlabelled, Tensor teacherProbabilities, PromptBatch meta, double alpha)
    {
        CheckAlpha(alpha);
        bool wasTraining = student.training;
        student.eval();
        using var attention = TwiceDifferentiable(student.Backbone);
        try
        {
            using var scope = NewDisposeScope();
            var theta = parameters.Cast<Tensor>().ToList();
            // v = ∇θ Lˡ(θ): the labelled gradient, a constant for the ε-derivative.
            var labelledLoss = functional.cross_entropy(student.Logits(meta), meta.Labels);
            var v = autograd.grad([labelledLoss], theta, null, false, false, true);

            var eps = zeros(unlabelled.Size, device: teacherProbabilities.device, requires_grad: true);
            var losses = KlPerExample(teacherProbabilities, student.Logits(unlabelled));
            var weighted = (eps * losses).sum();
            var g = autograd.grad([weighted], theta, null, true, true, true); // create_graph: g is linear in ε
            Tensor? dot = null;
            for (int k = 0; k < theta.Count; k++)
            {
                if (g[k] is null || v[k] is null || g[k].IsInvalid || v[k].IsInvalid) continue; // allow_unused: θ_k does not reach this loss
                var term = (g[k] * v[k].detach()).sum();
                dot = dot is null ? term : dot + term;
            }
            if (dot is null || !dot.requires_grad)
                return Finish(zeros_like(eps).detach());
            var gEps = autograd.grad([dot], [eps], null, false, false, true)[0] * -alpha;
            return Finish(gEps.detach());
        }
        finally { student.train(wasTraining); }
    }

    /// <summary>
    /// Method C, the test oracle: gᵢ = −α v·∇ℓᵢ with one backward pass per example (same eval-mode
    /// forward as <see cref="GradientAlignment"/>). N + 1 backward passes: for tests only.
    /// </summary>
    public static MetaWeights PerExampleOracle(PromptClassifier student, IReadOnlyList<Parameter> parameters, PromptBatch unlabelled, Tensor teacherProbabilities, PromptBatch meta, double alpha)
    {
        CheckAlpha(alpha);
        bool wasTraining = student.training;
        student.eval();
        using var attention = TwiceDifferentiable(student.Backbone);
        try
        {
            using var scope = NewDisposeScope();
            var theta = parameters.Cast<Tensor>().ToList();
            var labelledLoss = functional.cross_entropy(student.Logits(meta), meta.Labels);
            var v = autograd.grad([labelledLoss], theta, null, false, false, true);
            var losses = KlPerExample(teacherProbabilities, student.Logits(unlabelled));
            long n = unlabelled.Size;
            var g = new double[n];
            for (int i = 0; i < n; i++)
            {
                var gi = autograd.grad([losses[i]], theta, null, true, false, true);
                double dot = 0;
                for (int k = 0; k < theta.Count; k++)
                {
                    if (gi[k] is null || v[k] is null || gi[k].IsInvalid || v[k].IsInvalid) continue;
                    dot += (gi[k].to(ScalarType.Float64) * v[k].to(ScalarType.Float64)).sum().item<double>();
                }
                g[i] = -alpha * dot;
            }
            return Finish(tensor(g, device: teacherProbabilities.device).to(ScalarType.Float32));
        }
        finally { student.train(wasTraining); }
    }

    /// <summary>w̃ = max(−g, 0), w = w̃ / (Σw̃ + 1e-6): docs/methods.md §3.3 step 5.</summary>
    public static Tensor Normalize(Tensor epsilonGradient)
    {
        using var negated = epsilonGradient.neg();
        using var clamped = negated.clamp_min(0);
        using var total = clamped.sum();
        using var denominator = total + 1e-6;
        return clamped / denominator;
    }

    private static MetaWeights Finish(Tensor gEps)
    {
        var weights = Normalize(gEps);
        return new MetaWeights(weights.MoveToOuterDisposeScope(), gEps.MoveToOuterDisposeScope());
    }

    /// <summary>
    /// Switches every attention block of <paramref name="backbone"/> to the explicit matmul/softmax
    /// path until disposed: the fused CPU kernel's backward is not differentiable (libtorch aborts the
    /// process), and the meta step differentiates through a backward pass.
    /// </summary>
    public static IDisposable TwiceDifferentiable(RobertaForMaskedLM backbone)
    {
        var blocks = backbone.modules().OfType<RobertaSelfAttention>().ToList();
        var previous = blocks.Select(b => b.ExplicitAttention).ToList();
        foreach (var b in blocks) b.ExplicitAttention = true;
        return new Restore(() => { for (int i = 0; i < blocks.Count; i++) blocks[i].ExplicitAttention = previous[i]; });
    }

    private sealed class Restore(Action action) : IDisposable
    {
        private Action? pending = action;
        public void Dispose() { pending?.Invoke(); pending = null; }
    }

    private static void CheckAlpha(double alpha)
    {
        if (!(alpha > 0) || !double.IsFinite(alpha)) throw new ArgumentOutOfRangeException(nameof(alpha), alpha, "alpha must be positive and finite.");
    }
}
