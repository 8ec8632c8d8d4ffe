using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace MLNetForgetting.Modeling.Adapters;

#pragma warning disable IDE1006 // Hugging Face / LiST names (down, up)

/// <summary>Which bottleneck form an adapter has (docs/methods.md §3.2).</summary>
public enum AdapterVariant
{
    /// <summary>LiST: y = x + (x W₁ᵀ) W₂ᵀ, no bias, no non-linearity.</summary>
    LiST,
    /// <summary>Houlsby: y = x + ReLU(x W₁ᵀ) W₂ᵀ, no bias (as in the LiST code).</summary>
    Houlsby,
}

/// <summary>
/// A residual bottleneck adapter y = x + f(x W₁ᵀ) W₂ᵀ with W₁ (<c>down</c>): d → r and W₂ (<c>up</c>): r → d,
/// no biases. Both matrices start from N(0, σ²) with a small σ (2e-4 in LiST), so the adapter starts
/// near the identity and inserting it barely changes the backbone's outputs.
/// </summary>
internal sealed class BottleneckAdapter : Module<Tensor, Tensor>
{
    private readonly Linear down;
    private readonly Linear up;

    /// <param name="hiddenSize">d, the width of the stream the adapter sits on.</param>
    /// <param name="bottleneckSize">r (LiST: 128).</param>
    /// <param name="variant">LiST (linear) or Houlsby (ReLU between).</param>
    /// <param name="initStd">σ of the N(0, σ²) initialisation of both matrices (LiST: 2e-4).</param>
    /// <param name="generator">Seeds the initialisation.</param>
    /// <param name="device">Where the weights live.</param>
    public BottleneckAdapter(int hiddenSize, int bottleneckSize, AdapterVariant variant = AdapterVariant.LiST, double initStd = 2e-4, Generator? generator = null, Device? device = null)
        : base("adapter")
    {
        if (hiddenSize <= 0) throw new ArgumentOutOfRangeException(nameof(hiddenSize), hiddenSize, "hiddenSize must be positive.");
        if (bottleneckSize <= 0) throw new ArgumentOutOfRangeException(nameof(bottleneckSize), bottleneckSize, "bottleneckSize must be positive.");
        if (!(initStd >= 0) || !double.IsFinite(initStd)) throw new ArgumentOutOfRangeException(nameof(initStd), initStd, "initStd must be finite and >= 0.");
        down = Linear(hiddenSize, bottleneckSize, hasBias: false, device: device);
        up = Linear(bottleneckSize, hiddenSize, hasBias: false, device: device);
        Variant = variant;
        RegisterComponents();
        using (no_grad())
        {
            // normal_ works in place and returns the parameter itself: nothing to dispose.
            down.weight!.normal_(0.0, initStd, generator);
            up.weight!.normal_(0.0, initStd, generator);
        }
    }

    /// <summary>LiST or Houlsby.</summary>
    public AdapterVariant Variant { get; }

    /// <summary>W₁, shape (r, d).</summary>
    public Parameter Down => down.weight!;

    /// <summary>W₂, shape (d, r).</summary>
    public Parameter Up => up.weight!;

    /// <inheritdoc/>
    public override Tensor forward(Tensor input)
    {
        using var reduced = down.forward(input);
        using var activated = Variant == AdapterVariant.Houlsby ? functional.relu(reduced) : reduced.alias();
        using var expanded = up.forward(activated);
        return input + expanded;
    }
}

/// <summary>Where adapters go. LiST's code uses <see cref="AttentionOutput"/> | <see cref="FeedForwardOutput"/> in every layer.</summary>
[Flags]
public enum AdapterPlacement
{
    /// <summary>No adapters.</summary>
    None = 0,
    /// <summary>After <c>attention.output.dense</c>, before dropout and the residual LayerNorm.</summary>
    AttentionOutput = 1,
    /// <summary>After the FFN <c>output.dense</c>, before dropout and the residual LayerNorm.</summary>
    FeedForwardOutput = 2,
    /// <summary>LiST's placement: both of the above.</summary>
    LiST = AttentionOutput | FeedForwardOutput,
}

/// <summary>Shape and placement of the adapters of one task.</summary>
public sealed record AdapterOptions
{
    /// <summary>r, the bottleneck width (LiST: 128).</summary>
    public int BottleneckSize { get; init; } = 128;
    /// <summary>LiST (no non-linearity) or Houlsby (ReLU).</summary>
    public AdapterVariant Variant { get; init; } = AdapterVariant.LiST;
    /// <summary>σ of the N(0, σ²) initialisation (LiST: 2e-4).</summary>
    public double InitStd { get; init; } = 2e-4;
    /// <summary>Which residual blocks of every layer get an adapter.</summary>
    public AdapterPlacement Placement { get; init; } = AdapterPlacement.LiST;

    /// <summary>Throws <see cref="ArgumentOutOfRangeException"/> naming the first invalid option.</summary>
    public void Validate()
    {
        if (BottleneckSize <= 0) throw new ArgumentOutOfRangeException(nameof(BottleneckSize), BottleneckSize, "BottleneckSize must be positive.");
        if (!(InitStd >= 0) || !double.IsFinite(InitStd)) throw new ArgumentOutOfRangeException(nameof(InitStd), InitStd, "InitStd must be finite and >= 0.");
        if (Placement == AdapterPlacement.None || (Placement & ~AdapterPlacement.LiST) != 0)
            throw new ArgumentOutOfRangeException(nameof(Placement), Placement, "Placement must be AttentionOutput, FeedForwardOutput or both.");
    }
}
