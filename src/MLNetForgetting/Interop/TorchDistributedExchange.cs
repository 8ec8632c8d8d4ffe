using System.Globalization;
using System.Text;
using System.Text.Json;
using MLNetForgetting.Forgetting;
using MLNetForgetting.Modeling;
using MLNetForgetting.Persistence;
using MLNetForgetting.Text;
using MLNetForgetting.Training;
using static TorchSharp.torch;

namespace MLNetForgetting.Interop;

/// <summary>
/// What the PyTorch trainer in <c>python/mlnf_torch</c> (torchrun + DistributedDataParallel, docs/distributed.md)
/// needs from the .NET side and what lets the two be compared: the corpus as token ids (the Python side has no
/// tokenizer of its own, so both engines see the same ids), and a replay of the .NET trainer on batches that are
/// already masked (the RNGs of the two maskers differ, so the equivalence check passes the batches instead).
/// </summary>
internal static class TorchDistributedExchange
{
    /// <summary>First line of a token-id corpus; a JSON object with the ids the masker needs follows it.</summary>
    public const string IdsMagic = "#mlnf-ids ";
    public const string BatchesFile = "batches.safetensors", SettingsFile = "settings.json", InitFolder = "init";

    /// <summary>
    /// Writes <paramref name="lines"/> as token ids, one sequence per line (with &lt;s&gt; and &lt;/s&gt;, truncated
    /// to <paramref name="maxLength"/>), after a header naming the vocabulary size, pad, mask and special ids and
    /// the tokenizer's fingerprint. Empty lines are skipped. Returns (sequences, tokens).
    /// </summary>
    public static (long Sequences, long Tokens) WriteCorpusIds(SubwordTokenizer tokenizer, IEnumerable<string?> lines, int maxLength, string path)
    {
        var header = new Dictionary<string, object>
        {
            ["vocab_size"] = tokenizer.VocabSize, ["pad_id"] = tokenizer.PadId, ["mask_id"] = tokenizer.MaskId,
            ["special_ids"] = tokenizer.SpecialIds.OrderBy(i => i).ToArray(), ["max_length"] = maxLength,
            ["tokenizer"] = tokenizer.Fingerprint[..16],
        };
        long sequences = 0, tokens = 0;
        AtomicFile.Write(path, stream =>
        {
            using var w = new StreamWriter(stream, new UTF8Encoding(false), 1 << 16, leaveOpen: true) { NewLine = "\n" };
            w.WriteLine(IdsMagic + JsonSerializer.Serialize(header));
            var stats = new CorpusStats();
            foreach (var ids in Batching.Encode(lines, tokenizer, maxLength, stats))
            {
                w.WriteLine(string.Join(' ', ids.Select(i => i.ToString(CultureInfo.InvariantCulture))));
                sequences++; tokens += ids.Length;
            }
        });
        return (sequences, tokens);
    }

    /// <summary>
    /// Writes a replay folder: <c>init/</c> (the model as <see cref="HuggingFaceExport"/> writes it), the masked
    /// batches as <c>batch.N.{input_ids,attention_mask,labels}</c> (N from 1) and the settings under their
    /// <see cref="PretrainingSettings"/> names, which <c>python3 -m mlnf_torch.train --settings</c> reads.
    /// </summary>
    internal static void WriteReplay(string directory, RobertaForMaskedLM model, SubwordTokenizer? tokenizer, IReadOnlyList<MlmBatch> batches, PretrainingSettings settings)
    {
        Directory.CreateDirectory(directory);
        HuggingFaceExport.Export(model, tokenizer, Path.Combine(directory, InitFolder));
        var tensors = new List<KeyValuePair<string, Tensor>>();
        for (int i = 0; i < batches.Count; i++)
        {
            tensors.Add(new($"batch.{i + 1}.input_ids", batches[i].InputIds));
            tensors.Add(new($"batch.{i + 1}.attention_mask", batches[i].AttentionMask));
            tensors.Add(new($"batch.{i + 1}.labels", batches[i].Labels));
        }
        AtomicFile.Write(Path.Combine(directory, BatchesFile), s => SafeTensors.Write(s, tensors));
        var json = new Dictionary<string, object?>
        {
            [nameof(settings.MaxSteps)] = settings.MaxSteps, [nameof(settings.ResetInterval)] = settings.ResetInterval,
            [nameof(settings.BatchSize)] = settings.BatchSize, [nameof(settings.LearningRate)] = settings.LearningRate,
            [nameof(settings.EmbeddingLearningRate)] = settings.EmbeddingLearningRate, [nameof(settings.WarmupFraction)] = settings.WarmupFraction,
            [nameof(settings.WeightDecay)] = settings.WeightDecay, [nameof(settings.ClipNorm)] = settings.ClipNorm,
            [nameof(settings.Beta1)] = settings.Beta1, [nameof(settings.Beta2)] = settings.Beta2, [nameof(settings.Epsilon)] = settings.Epsilon,
            [nameof(settings.MaskProbability)] = settings.MaskProbability, [nameof(settings.Seed)] = settings.Seed,
        };
        AtomicFile.WriteAllText(Path.Combine(directory, SettingsFile), JsonSerializer.Serialize(json, new JsonSerializerOptions { WriteIndented = true }));
    }

    /// <summary>
    /// The .NET trainer on fixed, already masked batches: the same loop, optimizer, schedules and resets as
    /// <see cref="ActiveForgetting.Pretrain"/>, with batch n taken from <paramref name="batches"/> instead of
    /// being masked from text. <paramref name="afterReset"/> sees E after each reset (update n).
    /// Returns the loss of every update.
    /// </summary>
    internal static IReadOnlyList<double> Replay(RobertaForMaskedLM model, IReadOnlyList<MlmBatch> batches, PretrainingSettings settings, Action<long, Tensor>? afterReset = null)
    {
        settings.Validate();
        if (batches.Count < settings.MaxSteps) throw new ArgumentException($"{batches.Count} batches for {settings.MaxSteps} updates.", nameof(batches));
        using var optimizer = ActiveForgetting.CreateOptimizer(model, settings);
        var loop = new TrainingLoop<int>(model, optimizer, new TrainingLoopOptions
        {
            MaxSteps = settings.MaxSteps, Seed = settings.Seed, ClipNorm = settings.ClipNorm, LogInterval = 1000, Phase = "replay",
        })
        {
            AfterUpdate = update =>
            {
                if (!ActiveForgetting.ResetsAfter(update.Update, settings.ResetInterval, settings.MaxSteps)) return;
                ActiveForgetting.Forget(model, optimizer, settings.Seed, update.Update);
                afterReset?.Invoke(update.Update, model.TokenEmbeddings);
            },
        };
        var history = loop.Run(_ => Enumerable.Range(0, batches.Count), (i, _) =>
        {
            var b = batches[i];
            var (loss, _, _) = model.MaskedLmLoss(b.InputIds, b.AttentionMask, b.Labels);
            return new StepOutput(loss, b.TokenCount);
        });
        return history.Steps.Select(s => s.Loss).ToList();
    }
}
