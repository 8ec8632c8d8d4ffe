using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace MLNetForgetting.Modeling;

#pragma warning disable IDE1006 // Hugging Face RoBERTa names: query, key, value, dense, LayerNorm, ...

/// <summary>Multi-head self-attention through the fused scaled-dot-product kernel.</summary>
internal sealed class RobertaSelfAttention : Module<Tensor, Tensor, Tensor>
{
    private readonly Linear query, key, value;
    private readonly int heads;
    private readonly double attentionDropout;

    public RobertaSelfAttention(RobertaConfig config) : base("self")
    {
        query = Linear(config.HiddenSize, config.HiddenSize);
        key = Linear(config.HiddenSize, config.HiddenSize);
        value = Linear(config.HiddenSize, config.HiddenSize);
        heads = config.NumAttentionHeads;
        attentionDropout = config.AttentionDropout;
        RegisterComponents();
    }

    /// <param name="hidden">(B, T, d)</param>
    /// <param name="keyMask">(B, 1, 1, T) bool, true where the key is a real token.</param>
    public override Tensor forward(Tensor hidden, Tensor keyMask)
    {
        long b = hidden.shape[0], t = hidden.shape[1], d = hidden.shape[2];
        using var q = Split(Autocast.Linear(query, hidden), b, t, d);
        using var k = Split(Autocast.Linear(key, hidden), b, t, d);
        using var v = Split(Autocast.Linear(value, hidden), b, t, d);
        using var qc = Autocast.Operand(q);
        using var kc = Autocast.Operand(k);
        using var vc = Autocast.Operand(v);
        using var reduced = ExplicitAttention
            ? ExplicitScaledDotProduct(qc, kc, vc, keyMask, training ? attentionDropout : 0.0)
            : functional.scaled_dot_product_attention(qc, kc, vc, keyMask, training ? attentionDropout : 0.0, false);
        using var context = Autocast.Result(reduced);
        // (B, H, T, d/H) -> (B, T, d)
        using var merged = context.transpose(1, 2);
        return merged.reshape(b, t, d);
    }

    /// <summary>
    /// Compute attention with plain matmul/softmax instead of the fused kernel. Same outputs (within
    /// float rounding; dropout masks differ in training), but twice differentiable: the CPU fused
    /// kernel's backward has no derivative, so double backward (LiST's meta re-weighting) needs this.
    /// </summary>
    public bool ExplicitAttention { get; set; }

    private static Tensor ExplicitScaledDotProduct(Tensor q, Tensor k, Tensor v, Tensor keyMask, double dropout)
    {
        using var kT = k.transpose(-2, -1);
        using var raw = q.matmul(kT);
        using var scores = raw / Math.Sqrt(q.shape[^1]);
        using var blocked = keyMask.logical_not();
        using var masked = scores.masked_fill(blocked, double.NegativeInfinity);
        using var probs = functional.softmax(masked, -1);
        using var dropped = dropout > 0 ? functional.dropout(probs, dropout, true) : probs.alias();
        return dropped.matmul(v);
    }

    private Tensor Split(Tensor projected, long b, long t, long d)
    {
        using (projected)
        using (var view = projected.view(b, t, heads, d / heads))
            return view.transpose(1, 2); // (B, H, T, d/H)
    }
}

/// <summary>
/// dense → [adapter] → dropout → LayerNorm(· + residual): the output block after attention
/// (<c>attention.output</c>) and after the feed-forward layer (<c>output</c>). The optional adapter
/// slot is where bottleneck adapters (LiST, docs/methods.md §3.2) are injected without changing the base model.
/// </summary>
internal sealed class RobertaResidualOutput : Module<Tensor, Tensor, Tensor>
{
    private readonly Linear dense;
    private readonly LayerNorm LayerNorm;
    private readonly Dropout dropout;
    private Module<Tensor, Tensor>? adapter;

    public RobertaResidualOutput(string name, int inFeatures, RobertaConfig config) : base(name)
    {
        dense = Linear(inFeatures, config.HiddenSize);
        LayerNorm = nn.LayerNorm(config.HiddenSize, config.LayerNormEps);
        dropout = Dropout(config.HiddenDropout);
        RegisterComponents();
    }

    /// <summary>The adapter applied after <c>dense</c>, or null. Registered as submodule <c>adapter</c>.</summary>
    public Module<Tensor, Tensor>? Adapter
    {
        get => adapter;
        set
        {
            ArgumentNullException.ThrowIfNull(value); // re-initialise an adapter in place rather than removing it
            adapter = value;
            _internal_submodules[nameof(adapter)] = value;
        }
    }

    public override Tensor forward(Tensor input, Tensor residual)
    {
        using var projected = Autocast.Linear(dense, input);
        using var adapted = adapter is null ? projected.alias() : adapter.forward(projected);
        using var dropped = dropout.forward(adapted);
        using var sum = dropped + residual;
        return LayerNorm.forward(sum);
    }
}

/// <summary>Self-attention plus its output block (<c>attention.self</c>, <c>attention.output</c>).</summary>
internal sealed class RobertaAttention : Module<Tensor, Tensor, Tensor>
{
    private readonly RobertaSelfAttention self;
    private readonly RobertaResidualOutput output;

    public RobertaAttention(RobertaConfig config) : base("attention")
    {
        self = new RobertaSelfAttention(config);
        output = new RobertaResidualOutput("output", config.HiddenSize, config);
        RegisterComponents();
    }

    public RobertaResidualOutput Output => output;

    public override Tensor forward(Tensor hidden, Tensor keyMask)
    {
        using var context = self.forward(hidden, keyMask);
        return output.forward(context, hidden);
    }
}

/// <summary>The feed-forward expansion (<c>intermediate.dense</c> + GELU).</summary>
internal sealed class RobertaIntermediate : Module<Tensor, Tensor>
{
    private readonly Linear dense;

    public RobertaIntermediate(RobertaConfig config) : base("intermediate")
    {
        dense = Linear(config.HiddenSize, config.IntermediateSize);
        RegisterComponents();
    }

    public override Tensor forward(Tensor hidden)
    {
        using var projected = Autocast.Linear(dense, hidden);
        return functional.gelu(projected);
    }
}

/// <summary>One post-LN transformer layer.</summary>
internal sealed class RobertaLayer : Module<Tensor, Tensor, Tensor>
{
    private readonly RobertaAttention attention;
    private readonly RobertaIntermediate intermediate;
    private readonly RobertaResidualOutput output;

    public RobertaLayer(RobertaConfig config) : base("layer")
    {
        attention = new RobertaAttention(config);
        intermediate = new RobertaIntermediate(config);
        output = new RobertaResidualOutput("output", config.IntermediateSize, config);
        RegisterComponents();
    }

    /// <summary>The block after attention (adapter placement "attention output").</summary>
    public RobertaResidualOutput AttentionOutput => attention.Output;

    /// <summary>The block after the feed-forward layer (adapter placement "feed-forward output").</summary>
    public RobertaResidualOutput FeedForwardOutput => output;

    public override Tensor forward(Tensor hidden, Tensor keyMask)
    {
        using var attended = attention.forward(hidden, keyMask);
        using var expanded = intermediate.forward(attended);
        return output.forward(expanded, attended);
    }
}
