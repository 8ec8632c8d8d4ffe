using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace MLNetForgetting.Modeling;

#pragma warning disable IDE1006 // Hugging Face RoBERTa names

/// <summary>The stack of transformer layers (<c>encoder.layer.{i}</c>).</summary>
internal sealed class RobertaEncoder : Module<Tensor, Tensor, Tensor>
{
    private readonly ModuleList<RobertaLayer> layer;

    public RobertaEncoder(RobertaConfig config) : base("encoder")
    {
        layer = new ModuleList<RobertaLayer>(Enumerable.Range(0, config.NumHiddenLayers).Select(_ => new RobertaLayer(config)).ToArray());
        RegisterComponents();
    }

    public IReadOnlyList<RobertaLayer> Layers => layer.ToList();

    public override Tensor forward(Tensor hidden, Tensor keyMask)
    {
        Tensor current = hidden.alias();
        foreach (var l in layer)
        {
            var next = l.forward(current, keyMask);
            current.Dispose();
            current = next;
        }
        return current;
    }
}

/// <summary>Embeddings plus encoder: maps token ids to contextual hidden states (<c>roberta.*</c>).</summary>
internal sealed class RobertaModel : Module<Tensor, Tensor, Tensor>
{
    private readonly RobertaEmbeddings embeddings;
    private readonly RobertaEncoder encoder;

    public RobertaModel(RobertaConfig config) : base("roberta")
    {
        embeddings = new RobertaEmbeddings(config);
        encoder = new RobertaEncoder(config);
        RegisterComponents();
    }

    public RobertaEmbeddings Embeddings => embeddings;
    public RobertaEncoder Encoder => encoder;

    /// <param name="inputIds">(B, T) long.</param>
    /// <param name="attentionMask">(B, T), 1 for real tokens and 0 for padding.</param>
    /// <returns>(B, T, d) hidden states.</returns>
    public override Tensor forward(Tensor inputIds, Tensor attentionMask)
    {
        using var keyMask = attentionMask.to(ScalarType.Bool).unsqueeze(1).unsqueeze(1); // (B, 1, 1, T)
        using var embedded = embeddings.forward(inputIds);
        return encoder.forward(embedded, keyMask);
    }
}

/// <summary>
/// The MLM head (<c>lm_head.dense</c>, <c>lm_head.layer_norm</c>, <c>lm_head.bias</c>). The decoder
/// weight is not a parameter of the head: it is E itself, passed in at forward time, so the tie can
/// never break when E is reset in place or replaced, and the optimizer sees E once.
/// </summary>
internal sealed class RobertaLMHead : Module<Tensor, Tensor, Tensor>
{
    private readonly Linear dense;
    private readonly LayerNorm layer_norm;
    private Parameter bias;

    public RobertaLMHead(RobertaConfig config) : base("lm_head")
    {
        dense = Linear(config.HiddenSize, config.HiddenSize);
        layer_norm = LayerNorm(config.HiddenSize, config.LayerNormEps);
        bias = Parameter(zeros(config.VocabSize));
        RegisterComponents();
    }

    /// <summary>The output bias, one entry per vocabulary id.</summary>
    public Parameter Bias => bias;

    /// <summary>Replaces the output bias by zeros of a new vocabulary size (relearning; what the relearner then puts in it: docs/methods.md §2 stage 2).</summary>
    public void ResetBias(int vocabSize)
    {
        using (no_grad())
        {
            bias = Parameter(zeros(vocabSize, device: bias.device));
            _internal_params[nameof(bias)] = bias;
        }
    }

    /// <param name="hidden">(..., d)</param>
    /// <param name="tokenEmbeddings">E, (V, d).</param>
    /// <returns>(..., V) logits.</returns>
    public override Tensor forward(Tensor hidden, Tensor tokenEmbeddings)
    {
        using var projected = Autocast.Linear(dense, hidden);
        using var activated = functional.gelu(projected);
        using var normed = layer_norm.forward(activated);
        return Autocast.Linear(normed, tokenEmbeddings, bias);
    }
}

/// <summary>
/// fairseq/HF RoBERTa classification head on the &lt;s&gt; token: dropout → dense → tanh → dropout →
/// out_proj (<c>classifier.dense</c>, <c>classifier.out_proj</c>), docs/methods.md §2 stage 3.
/// </summary>
internal sealed class RobertaClassificationHead : Module<Tensor, Tensor>
{
    private readonly Linear dense;
    private readonly Linear out_proj;
    private readonly Dropout dropout;

    public RobertaClassificationHead(RobertaConfig config, int numLabels) : base("classifier")
    {
        dense = Linear(config.HiddenSize, config.HiddenSize);
        out_proj = Linear(config.HiddenSize, numLabels);
        dropout = Dropout(config.HiddenDropout);
        RegisterComponents();
    }

    /// <param name="hidden">(B, T, d)</param>
    /// <returns>(B, numLabels) logits.</returns>
    public override Tensor forward(Tensor hidden)
    {
        using var first = hidden.select(1, 0); // <s>
        using var x1 = dropout.forward(first);
        using var x2 = dense.forward(x1);
        using var x3 = x2.tanh();
        using var x4 = dropout.forward(x3);
        return out_proj.forward(x4);
    }
}
