using MLNetForgetting.Modeling;
using MLNetForgetting.Prompts;
using MLNetForgetting.Text;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace MLNetForgetting.SelfTraining;

/// <summary>
/// The classic fine-tuning baseline: the backbone with a classification head on &lt;s&gt;, reading
/// the plain input (&lt;s&gt; a &lt;/s&gt; or the RoBERTa pair layout), no template.
/// </summary>
internal sealed class ClassicClassifier
{
    private readonly SubwordTokenizer tokenizer;

    internal ClassicClassifier(RobertaForMaskedLM backbone, SubwordTokenizer tokenizer, PromptTask task, Generator generator)
    {
        Backbone = backbone;
        this.tokenizer = tokenizer;
        Task = task;
        backbone.AddClassifier(task.Verbalizer.Count, generator);
    }

    /// <summary>The (fine-tuned) backbone carrying the classifier.</summary>
    public RobertaForMaskedLM Backbone { get; }

    /// <summary>The task; class i is <c>Task.Verbalizer.Labels[i]</c>.</summary>
    public PromptTask Task { get; }

    /// <summary>Encodes examples for this model (mask position unused: 0).</summary>
    public List<PromptExample> Encode(IEnumerable<FewShotExample> examples)
    {
        int max = Backbone.Config.MaxSequenceLength;
        return examples.Select(e => new PromptExample(
            e.Texts.Count >= 2 ? tokenizer.EncodePair(e.Texts[0], e.Texts[1], max) : tokenizer.EncodeSingle(e.Texts[0], max),
            0, e.Label is null ? -1 : Task.Verbalizer.IndexOf(e.Label))).ToList();
    }

    internal IReadOnlyList<Parameter> TrainableParameters()
    {
        var all = Backbone.parameters().ToList();
        foreach (var p in all) p.requires_grad = true;
        return all;
    }

    internal Tensor Logits(PromptBatch batch) => Backbone.ClassifierLogits(batch.InputIds, batch.AttentionMask);

    /// <summary>Accuracy on labelled examples (eval mode, no gradients).</summary>
    public double Accuracy(IReadOnlyList<FewShotExample> examples, int batchSize = 16)
    {
        var encoded = Encode(examples);
        if (encoded.Count == 0) throw new ArgumentException("No examples to score.", nameof(examples));
        bool wasTraining = Backbone.training;
        Backbone.eval();
        long correct = 0;
        try
        {
            for (int start = 0; start < encoded.Count; start += batchSize)
            {
                using var scope = NewDisposeScope();
                using var _ = no_grad();
                var batch = PromptBatch.Collate(encoded.Skip(start).Take(batchSize).ToList(), Backbone.Config.PadTokenId, Backbone.TokenEmbeddings.device);
                correct += Logits(batch).argmax(-1).eq(batch.Labels).sum().item<long>();
            }
        }
        finally { Backbone.train(wasTraining); }
        return (double)correct / encoded.Count;
    }
}
