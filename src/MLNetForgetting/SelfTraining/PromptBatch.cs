using MLNetForgetting.Prompts;
using MLNetForgetting.Text;
using static TorchSharp.torch;

namespace MLNetForgetting.SelfTraining;

/// <summary>One example as the trainers see it: its rendered prompt and its class (-1 when unlabelled).</summary>
/// <param name="Ids">Token ids of the rendered template.</param>
/// <param name="MaskPosition">Index of &lt;mask&gt; in <paramref name="Ids"/>.</param>
/// <param name="Label">Class index, or -1.</param>
internal sealed record PromptExample(int[] Ids, int MaskPosition, int Label);

/// <summary>Tensors of a batch of prompt examples (right-padded).</summary>
/// <param name="InputIds">(B, T) long.</param>
/// <param name="AttentionMask">(B, T) long, 1 on real tokens.</param>
/// <param name="MaskPositions">(B) long.</param>
/// <param name="Labels">(B) long; -1 where unlabelled.</param>
internal sealed record PromptBatch(Tensor InputIds, Tensor AttentionMask, Tensor MaskPositions, Tensor Labels)
{
    /// <summary>Batch size.</summary>
    public long Size => InputIds.shape[0];

    /// <summary>Pads <paramref name="examples"/> with <paramref name="padId"/>; the tensors join the caller's dispose scope.</summary>
    public static PromptBatch Collate(IReadOnlyList<PromptExample> examples, int padId, Device device)
    {
        if (examples.Count == 0) throw new ArgumentException("A batch needs at least one example.", nameof(examples));
        int length = examples.Max(e => e.Ids.Length);
        var ids = new long[examples.Count * length];
        var mask = new long[examples.Count * length];
        Array.Fill(ids, padId);
        for (int b = 0; b < examples.Count; b++)
        {
            var e = examples[b];
            for (int t = 0; t < e.Ids.Length; t++) { ids[b * length + t] = e.Ids[t]; mask[b * length + t] = 1; }
        }
        return new PromptBatch(
            tensor(ids, [examples.Count, length], device: device),
            tensor(mask, [examples.Count, length], device: device),
            tensor(examples.Select(e => (long)e.MaskPosition).ToArray(), device: device),
            tensor(examples.Select(e => (long)e.Label).ToArray(), device: device));
    }
}

/// <summary>Renders task examples into <see cref="PromptExample"/>s.</summary>
internal static class PromptEncoder
{
    /// <summary>
    /// Renders every example with the task's template (limited to <paramref name="maxLength"/>, e.g. the
    /// backbone's <c>MaxSequenceLength</c>) and maps labels through the verbalizer. Unlabelled examples
    /// (label null) get -1; a label that is not in the verbalizer throws an <see cref="ArgumentException"/> naming it.
    /// </summary>
    public static List<PromptExample> Encode(IEnumerable<FewShotExample> examples, PromptTask task, SubwordTokenizer tokenizer, int maxLength)
    {
        ArgumentNullException.ThrowIfNull(examples);
        var result = new List<PromptExample>();
        foreach (var e in examples)
        {
            var enc = task.Template.Encode(e.Texts, tokenizer, maxLength);
            int label = e.Label is null ? -1 : task.Verbalizer.IndexOf(e.Label);
            result.Add(new PromptExample(enc.Ids, enc.MaskPosition, label));
        }
        return result;
    }
}
