using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace MLNetForgetting.Training;

/// <summary>One parameter group: its own schedule, step counter t and Adam moments.</summary>
internal sealed class ParameterGroup
{
    public ParameterGroup(string name, IEnumerable<Parameter> parameters, LearningRateSchedule schedule, double weightDecay = 0.01)
    {
        Name = name;
        Parameters = parameters.ToList();
        Schedule = schedule;
        WeightDecay = weightDecay;
    }

    public string Name { get; }
    public IReadOnlyList<Parameter> Parameters { get; }
    public LearningRateSchedule Schedule { get; }
    /// <summary>Decoupled weight decay λ (θ ← θ − η·λ·θ), applied to tensors with 2+ dimensions only (biases and LayerNorms are not decayed).</summary>
    public double WeightDecay { get; }
    /// <summary>The group's own Adam step t, used for bias correction; restarts at 0 with <see cref="AdamEF.ResetState"/>.</summary>
    public long Step { get; internal set; }
    /// <summary>The learning rate of the last update.</summary>
    public double LearningRate { get; internal set; }
    internal Tensor?[] ExpAvg = Array.Empty<Tensor?>();
    internal Tensor?[] ExpAvgSq = Array.Empty<Tensor?>();
    /// <summary>True from a reset until the next step: the moments are allocated but hold zeros.</summary>
    internal bool MomentsZero;
}

/// <summary>
/// Adam with decoupled weight decay and explicit per-group state. It is the "AdamEF" of [AF]
/// (docs/methods.md §1.2): <see cref="ResetState"/> zeroes one group's moments and restarts its
/// bias-correction step while every other group continues. The state is plain tensors so that
/// checkpoints save it and resume exactly.
/// </summary>
internal sealed class AdamEF : IDisposable
{
    private readonly List<ParameterGroup> groups;

    public AdamEF(IEnumerable<ParameterGroup> groups, double beta1 = 0.9, double beta2 = 0.98, double eps = 1e-6)
    {
        this.groups = groups.ToList();
        var seen = new HashSet<(IntPtr, long)>();
        foreach (var g in this.groups)
        {
            foreach (var p in g.Parameters)
                if (!seen.Add(MLNetForgetting.Modeling.TensorIdentity.Of(p))) throw new ArgumentException($"A parameter appears twice in the optimizer (group '{g.Name}'); tied weights must be registered once.");
            g.ExpAvg = new Tensor?[g.Parameters.Count];
            g.ExpAvgSq = new Tensor?[g.Parameters.Count];
        }
        if (this.groups.Select(g => g.Name).Distinct().Count() != this.groups.Count) throw new ArgumentException("Parameter group names must be unique.");
        Beta1 = beta1; Beta2 = beta2; Eps = eps;
    }

    public double Beta1 { get; }
    public double Beta2 { get; }
    public double Eps { get; }
    public IReadOnlyList<ParameterGroup> Groups => groups;

    public ParameterGroup this[string name] => groups.FirstOrDefault(g => g.Name == name) ?? throw new KeyNotFoundException($"No parameter group '{name}'.");

    /// <summary>All parameters that train.</summary>
    public IEnumerable<Parameter> AllParameters => groups.SelectMany(g => g.Parameters);

    /// <summary>Sets each group's rate from its schedule for update <paramref name="update"/> and applies one Adam step.</summary>
    public void Step(long update)
    {
        using var _ = no_grad();
        foreach (var g in groups)
        {
            g.LearningRate = g.Schedule.At(update);
            g.Step++;
            g.MomentsZero = false;
            double bc1 = 1 - Math.Pow(Beta1, g.Step), bc2 = 1 - Math.Pow(Beta2, g.Step);
            double lr = g.LearningRate;
            for (int i = 0; i < g.Parameters.Count; i++)
            {
                var p = g.Parameters[i];
                var grad = p.grad;
                if (grad is null) continue;
                var m = g.ExpAvg[i] ??= zeros_like(p).DetachFromDisposeScope();
                var v = g.ExpAvgSq[i] ??= zeros_like(p).DetachFromDisposeScope();
                if (g.WeightDecay != 0 && p.dim() >= 2) p.mul_(1 - lr * g.WeightDecay);
                m.mul_(Beta1).add_(grad, alpha: 1 - Beta1);
                v.mul_(Beta2).addcmul_(grad, grad, value: 1 - Beta2);
                using var root = v.sqrt();
                using var denom = root.div_(Math.Sqrt(bc2)).add_(Eps);
                p.addcdiv_(m, denom, value: -lr / bc1);
            }
        }
    }

    public void ZeroGrad()
    {
        foreach (var p in AllParameters)
        {
            var grad = p.grad;
            if (grad is not null) { grad.zero_(); }
        }
    }

    /// <summary>
    /// Zeroes the moments of group <paramref name="name"/> and restarts its step counter t (AdamEF reset).
    /// The moment tensors are zeroed in place, not freed: the next step computes exactly what fresh zero
    /// tensors would give, and the process does not hand large buffers back to the allocator and ask for
    /// them again every reset (which fragments the C heap and makes the resident set dip and grow).
    /// </summary>
    public void ResetState(string name)
    {
        var g = this[name];
        using (no_grad())
        {
            foreach (var m in g.ExpAvg) m?.zero_();
            foreach (var v in g.ExpAvgSq) v?.zero_();
        }
        g.MomentsZero = true;
        g.Step = 0;
    }

    private static void Release(ParameterGroup g)
    {
        for (int i = 0; i < g.Parameters.Count; i++)
        {
            g.ExpAvg[i]?.Dispose(); g.ExpAvg[i] = null;
            g.ExpAvgSq[i]?.Dispose(); g.ExpAvgSq[i] = null;
        }
        g.MomentsZero = false;
    }

    /// <summary>The moments as named tensors (<c>{group}.{index}.exp_avg</c>) for checkpoints; absent moments and those of a group reset since its last step are omitted (they are zero).</summary>
    public IEnumerable<KeyValuePair<string, Tensor>> StateTensors()
    {
        foreach (var g in groups.Where(g => !g.MomentsZero))
            for (int i = 0; i < g.Parameters.Count; i++)
            {
                if (g.ExpAvg[i] is { } m) yield return new($"{g.Name}.{i}.exp_avg", m);
                if (g.ExpAvgSq[i] is { } v) yield return new($"{g.Name}.{i}.exp_avg_sq", v);
            }
    }

    /// <summary>Group steps by name, saved alongside <see cref="StateTensors"/>.</summary>
    public Dictionary<string, long> StepCounts() => groups.ToDictionary(g => g.Name, g => g.Step);

    /// <summary>Restores what <see cref="StateTensors"/> and <see cref="StepCounts"/> saved.</summary>
    public void LoadState(IReadOnlyDictionary<string, Tensor> tensors, IReadOnlyDictionary<string, long> steps)
    {
        using var _ = no_grad();
        foreach (var g in groups)
        {
            Release(g);
            g.Step = steps.TryGetValue(g.Name, out var s) ? s : throw new InvalidDataException($"Checkpoint has no optimizer state for group '{g.Name}'.");
            for (int i = 0; i < g.Parameters.Count; i++)
            {
                var device = g.Parameters[i].device;
                if (tensors.TryGetValue($"{g.Name}.{i}.exp_avg", out var m)) g.ExpAvg[i] = m.to(device).clone().DetachFromDisposeScope();
                if (tensors.TryGetValue($"{g.Name}.{i}.exp_avg_sq", out var v)) g.ExpAvgSq[i] = v.to(device).clone().DetachFromDisposeScope();
            }
        }
    }

    public void Dispose()
    {
        foreach (var g in groups) Release(g);
    }
}
