using System.Security.Cryptography;
using System.Text;
using MLNetForgetting.Modeling;
using TorchSharp;
using static TorchSharp.torch;

namespace MLNetForgetting.Adaptation;

/// <summary>
/// Stage 4 of the cross-lingual pipeline (docs/methods.md §2): splice the relearned token embeddings
/// into the task-adapted model.
/// </summary>
internal static class ModelAssembly
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
        // A BERT-type body takes a vocabulary with another padding id (its positions do not depend on it).
        if (taskAdapted.Config.PadTokenId != relearned.Config.PadTokenId && !taskAdapted.Config.IsBert)
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

    /// <summary>
    /// SHA-256 (hex) of the pretrained body a model carries: every parameter except the embedding side
    /// (<see cref="EmbeddingSideNames"/>, which relearning replaces), a classification head and installed
    /// adapters, by ordinal name (name, shape, bytes). A pretrained model and every model relearned from
    /// it have the same value, because relearning trains the embedding side only; a task-adapted
    /// classifier records the value of the model it was fine-tuned from, since fine-tuning moves its body.
    /// </summary>
    public static string BodyFingerprint(RobertaForMaskedLM model)
    {
        ArgumentNullException.ThrowIfNull(model);
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        foreach (var (name, p) in model.named_parameters()
                     .Where(p => !EmbeddingSideNames.Contains(p.name) && !p.name.StartsWith("classifier.", StringComparison.Ordinal) && !p.name.Contains(".adapter.", StringComparison.Ordinal))
                     .OrderBy(p => p.name, StringComparer.Ordinal))
        {
            sha.AppendData(Encoding.UTF8.GetBytes($"{name}|{string.Join(",", p.shape)}\n"));
            using var cpu = p.detach().cpu().contiguous();
            sha.AppendData(cpu.bytes);
        }
        return Convert.ToHexStringLower(sha.GetHashAndReset());
    }

    /// <summary>Names of the parameters Assemble takes from the relearned model: E and the MLM output bias.</summary>
    public static IReadOnlySet<string> EmbeddingSideNames { get; } = new HashSet<string>(StringComparer.Ordinal)
    {
        RobertaForMaskedLM.TokenEmbeddingsKey, "lm_head.bias",
    };
}
