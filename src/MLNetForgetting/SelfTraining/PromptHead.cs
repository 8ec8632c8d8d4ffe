using MLNetForgetting.Modeling;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace MLNetForgetting.SelfTraining;

#pragma warning disable IDE1006 // Hugging Face names (dense, layer_norm, decoder, bias)

/// <summary>
/// The trainable LM head of a prompt classifier, restricted to the label words: <c>dense</c> →
/// GELU → <c>layer_norm</c> → <c>decoder</c> (C × d) and <c>bias</c> (C), copied from the backbone's
/// MLM head and from the rows of E and of the output bias at the label-word ids.
/// <para>Why a copy and only C rows (docs/methods.md §3.2): LiST trains the whole LM head with an untied
/// decoder, but class logits read only the label-word rows, so only those rows ever get gradient
/// (and weight decay is 0): keeping just them is equivalent. Our backbone ties the decoder to E,
/// which must stay frozen; copying the rows unties them without touching the backbone, and copying
/// dense/LayerNorm keeps the shared backbone bit-identical, so several tasks (and a LiST teacher and
/// its student) can share it.</para>
/// </summary>
internal sealed class PromptHead : Module<Tensor, Tensor>
{
    private readonly Linear dense;
    private readonly LayerNorm layer_norm;
    private readonly Parameter decoder;
    private readonly Parameter bias;

    private PromptHead(int hiddenSize, int classes, double layerNormEps, Device device) : base("head")
    {
        dense = Linear(hiddenSize, hiddenSize, device: device);
        layer_norm = LayerNorm(hiddenSize, layerNormEps, device: device);
        decoder = Parameter(zeros(classes, hiddenSize, device: device));
        bias = Parameter(zeros(classes, device: device));
        RegisterComponents();
    }

    /// <summary>A head whose logits equal the backbone's MLM logits at <paramref name="labelWordIds"/>.</summary>
    public static PromptHead FromBackbone(RobertaForMaskedLM backbone, IReadOnlyList<int> labelWordIds)
    {
        ArgumentNullException.ThrowIfNull(backbone);
        ArgumentNullException.ThrowIfNull(labelWordIds);
        if (labelWordIds.Count < 2) throw new ArgumentException("At least 2 label words are needed.", nameof(labelWordIds));
        if (labelWordIds.Any(id => id < 0 || id >= backbone.Config.VocabSize))
            throw new ArgumentOutOfRangeException(nameof(labelWordIds), "A label-word id is outside the backbone's vocabulary.");
        var device = backbone.TokenEmbeddings.device;
        var head = new PromptHead(backbone.Config.HiddenSize, labelWordIds.Count, backbone.Config.LayerNormEps, device);
        var source = backbone.LMHead.named_parameters().ToDictionary(p => p.name, p => p.parameter);
        using var _ = no_grad();
        using var scope = NewDisposeScope();
        head.dense.weight!.copy_(source["dense.weight"]);
        head.dense.bias!.copy_(source["dense.bias"]);
        head.layer_norm.weight!.copy_(source["layer_norm.weight"]);
        head.layer_norm.bias!.copy_(source["layer_norm.bias"]);
        var ids = tensor(labelWordIds.Select(i => (long)i).ToArray(), device: device);
        head.decoder.copy_(backbone.TokenEmbeddings.index_select(0, ids));
        head.bias.copy_(backbone.LMHead.Bias.index_select(0, ids));
        return head;
    }

    /// <summary>Number of classes C.</summary>
    public int Classes => (int)decoder.shape[0];

    /// <param name="maskHidden">(B, d) hidden states at &lt;mask&gt;.</param>
    /// <returns>(B, C) class logits.</returns>
    public override Tensor forward(Tensor maskHidden)
    {
        using var projected = dense.forward(maskHidden);
        using var activated = functional.gelu(projected);
        using var normed = layer_norm.forward(activated);
        return functional.linear(normed, decoder, bias);
    }
}
