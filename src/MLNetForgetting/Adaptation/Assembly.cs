using MLNetForgetting.Modeling;
using TorchSharp;
using static TorchSharp.torch;

namespace MLNetForgetting.Adaptation;

/// <summary>
/// Stage 4 of the cross-lingual pipeline (methods.md §2): splice the relearned token embeddings
/// into the task-adapted model.
/// </summary>
public static class ModelAssembly
{
    /// <summary>
    /// A NEW model: positional embeddings, embedding LayerNorm, body, MLM head dense/LayerNorm and
    /// classifier are copies of <paramref name="taskAdapted"/>'s; E (the tied MLM decoder is E itself)
    /// and the MLM output bias are copies of <paramref name="relearned"/>'s, so the vocabulary is the
    /// relearned one. Neither input is modified; the result is on <paramref name="taskAdapted"/>'s
    /// device, in training mode, with every parameter trainable. Use it with the target tokenizer.
    /// </summary>
    /// <exception cref="ArgumentException">The two models differ in hidden size or padding id.</exception>
    public static RobertaForMaskedLM Assemble(RobertaForMaskedLM taskAdapted, RobertaForMaskedLM relearned)
    {
        ArgumentNullException.ThrowIfNull(taskAdapted);
        ArgumentNullException.ThrowIfNull(relearned);
        if (taskAdapted.Config.HiddenSize != relearned.Config.HiddenSize)
            throw new ArgumentException($"The relearned embeddings have width {relearned.Config.HiddenSize}; the task-adapted model needs {taskAdapted.Config.HiddenSize}.", nameof(relearned));
        if (taskAdapted.Config.PadTokenId != relearned.Config.PadTokenId)
            throw new ArgumentException($"The relearned model pads with id {relearned.Config.PadTokenId}; the task-adapted model with {taskAdapted.Config.PadTokenId}.", nameof(relearned));
        var assembled = Clone(taskAdapted);
        try
        {
            assembled.CopyTokenEmbeddingsFrom(relearned);
            return assembled;
        }
        catch
        {
            assembled.Dispose();
            throw;
        }
    }

    /// <summary>A deep copy (same config, classifier included) on the same device; requires_grad is true everywhere.</summary>
    public static RobertaForMaskedLM Clone(RobertaForMaskedLM source)
    {
        ArgumentNullException.ThrowIfNull(source);
        var copy = new RobertaForMaskedLM(source.Config);
        try
        {
            copy.to(source.TokenEmbeddings.device);
            copy.LoadNamedTensors(source.NamedTensors());
            return copy;
        }
        catch
        {
            copy.Dispose();
            throw;
        }
    }

    /// <summary>Names of the parameters Assemble takes from the relearned model: E and the MLM output bias.</summary>
    public static IReadOnlySet<string> EmbeddingSideNames { get; } = new HashSet<string>(StringComparer.Ordinal)
    {
        RobertaForMaskedLM.TokenEmbeddingsKey, "lm_head.bias",
    };
}
