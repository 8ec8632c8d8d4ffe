using MLNetForgetting.Modeling;
using MLNetForgetting.Modeling.Adapters;
using MLNetForgetting.Prompts;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace MLNetForgetting.SelfTraining;

#pragma warning disable IDE1006 // module names double as parameter-name segments (adapters.*, head.*)

/// <summary>
/// Prompt-based classifier on a shared backbone: optional adapters (<c>adapters.*</c>, installed into
/// the backbone's slots before every forward) and a <see cref="PromptHead"/> (<c>head.*</c>). Class
/// logits are the MLM logits at &lt;mask&gt; restricted to the label-word ids (docs/methods.md §3.1).
/// <para>The backbone is referenced, not registered: <see cref="nn.Module.named_parameters"/> of this
/// module is exactly the task's own parameters (adapters + head), which is what the optimizer,
/// checkpoints and adapter packs hold. <see cref="train"/> also switches the backbone's dropout.</para>
/// <para>Not thread-safe: models that share a backbone must not forward concurrently.</para>
/// </summary>
internal sealed class PromptClassifier : Module<Tensor, Tensor, Tensor, Tensor>
{
    private readonly AdapterSet? adapters;
    private readonly PromptHead head;

    /// <summary>Wraps <paramref name="backbone"/> with <paramref name="adapters"/> (null: none) and <paramref name="head"/>.</summary>
    public PromptClassifier(RobertaForMaskedLM backbone, PromptTemplate template, Verbalizer verbalizer, int[] labelWordIds, AdapterSet? adapters, PromptHead head)
        : base(nameof(PromptClassifier))
    {
        Backbone = backbone ?? throw new ArgumentNullException(nameof(backbone));
        Template = template ?? throw new ArgumentNullException(nameof(template));
        Verbalizer = verbalizer ?? throw new ArgumentNullException(nameof(verbalizer));
        LabelWordIds = labelWordIds ?? throw new ArgumentNullException(nameof(labelWordIds));
        if (head.Classes != verbalizer.Count || labelWordIds.Length != verbalizer.Count)
            throw new ArgumentException($"The head has {head.Classes} classes and {labelWordIds.Length} label-word ids; the verbalizer has {verbalizer.Count}.");
        this.adapters = adapters;
        this.head = head;
        // Registered by hand: RegisterComponents would also pick up the backbone (through the
        // property's backing field), and the backbone must stay outside this module's parameters.
        if (adapters is not null) register_module("adapters", adapters);
        register_module("head", head);
    }

    /// <summary>
    /// A fresh LiST model: new adapters (N(0, σ²), near the identity) and a head copied from the
    /// backbone's MLM head at the label words. Throws <see cref="LabelWordException"/> if a label word
    /// is not a single token.
    /// </summary>
    public static PromptClassifier Create(RobertaForMaskedLM backbone, Text.SubwordTokenizer tokenizer, PromptTask task, AdapterOptions? adapterOptions, Generator? generator = null)
    {
        ArgumentNullException.ThrowIfNull(backbone);
        ArgumentNullException.ThrowIfNull(tokenizer);
        ArgumentNullException.ThrowIfNull(task);
        if (tokenizer.VocabSize != backbone.Config.VocabSize)
            throw new ArgumentException($"The tokenizer has {tokenizer.VocabSize} ids but the backbone's vocabulary is {backbone.Config.VocabSize}.", nameof(tokenizer));
        int[] ids = task.Verbalizer.LabelWordIds(tokenizer);
        var device = backbone.TokenEmbeddings.device;
        var set = adapterOptions is null ? null : new AdapterSet(backbone.Config, adapterOptions, generator, device);
        return new PromptClassifier(backbone, task.Template, task.Verbalizer, ids, set, PromptHead.FromBackbone(backbone, ids));
    }

    /// <summary>The shared backbone (not a registered submodule).</summary>
    public RobertaForMaskedLM Backbone { get; }

    /// <summary>The template examples are rendered with.</summary>
    public PromptTemplate Template { get; }

    /// <summary>Labels and label words.</summary>
    public Verbalizer Verbalizer { get; }

    /// <summary>Token ids of the label words (with leading space), in class order.</summary>
    public int[] LabelWordIds { get; }

    /// <summary>The task's adapters, or null (prompt fine-tuning of the whole backbone).</summary>
    public AdapterSet? Adapters => adapters;

    /// <summary>The label-word LM head.</summary>
    public PromptHead Head => head;

    /// <summary>
    /// Whether the frozen backbone runs its dropout while this model trains (true, as LiST's code, where
    /// the whole model is in training mode). False keeps the backbone in evaluation mode throughout: with a
    /// small backbone whose hidden state at &lt;mask&gt; varies little between inputs, dropout noise can
    /// swamp that variation and adapters plus head then cannot even fit the labelled set (see docs/list.md,
    /// "Positive controls").
    /// </summary>
    public bool BackboneDropout { get; set; } = true;

    /// <summary>Sets this module and the backbone to training (dropout on, unless <see cref="BackboneDropout"/> is false) or evaluation mode.</summary>
    public override void train(bool train = true)
    {
        base.train(train);
        Backbone.train(train && BackboneDropout);
    }

    /// <summary>
    /// Class logits (B, C). Installs this model's adapters (or empty slots) and aligns the backbone's
    /// mode with this module's first, so a teacher and a student can share one backbone.
    /// </summary>
    public override Tensor forward(Tensor inputIds, Tensor attentionMask, Tensor maskPositions)
    {
        Prepare();
        using var hidden = Backbone.forward(inputIds, attentionMask);
        long b = hidden.shape[0], d = hidden.shape[2];
        using var index = maskPositions.view(b, 1, 1).expand(b, 1, d);
        using var gathered = hidden.gather(1, index);
        using var atMask = gathered.squeeze(1);
        return head.forward(atMask);
    }

    /// <summary>Class logits of a collated batch.</summary>
    public Tensor Logits(PromptBatch batch) => forward(batch.InputIds, batch.AttentionMask, batch.MaskPositions);

    /// <summary>Installs this model's adapters into the backbone now (forward does it anyway), so the backbone alone computes this task's function.</summary>
    public void Activate() => Prepare();

    private void Prepare()
    {
        if (adapters is not null) adapters.Install(Backbone);
        else AdapterSet.Uninstall(Backbone);
        bool backboneTraining = training && BackboneDropout;
        if (Backbone.training != backboneTraining) Backbone.train(backboneTraining);
    }

    /// <summary>
    /// The freezing rule (PEFT's lesson, by name): in the backbone only installed adapter parameters
    /// (<c>*.adapter.*</c>) may train, every other backbone parameter gets <c>requires_grad = false</c>;
    /// every parameter of this module (adapters and head) trains. Returns this module's parameters, the
    /// ones to give the optimizer.
    /// </summary>
    public IReadOnlyList<Parameter> FreezeBackbone()
    {
        Prepare();
        foreach (var (name, p) in Backbone.named_parameters())
            p.requires_grad = AdapterSet.IsAdapterParameterName(name);
        var own = parameters().ToList();
        foreach (var p in own) p.requires_grad = true;
        return own;
    }

    /// <summary>Makes every backbone parameter and this module's parameters trainable (full prompt fine-tuning); returns all of them.</summary>
    public IReadOnlyList<Parameter> UnfreezeAll()
    {
        Prepare();
        var all = new List<Parameter>();
        foreach (var (name, p) in Backbone.named_parameters())
        {
            if (AdapterSet.IsAdapterParameterName(name)) continue; // listed below, through this module
            p.requires_grad = true;
            all.Add(p);
        }
        foreach (var p in parameters()) { p.requires_grad = true; all.Add(p); }
        return all;
    }

    /// <summary>Trainable vs total parameters, as PEFT's print_trainable_parameters.</summary>
    public TrainableParameterReport ParameterReport()
    {
        Prepare();
        long backboneTotal = 0, backboneTrainable = 0;
        foreach (var (name, p) in Backbone.named_parameters())
        {
            if (AdapterSet.IsAdapterParameterName(name)) continue; // counted once, as this module's
            backboneTotal += p.numel();
            if (p.requires_grad) backboneTrainable += p.numel();
        }
        long own = parameters().Sum(p => p.numel());
        long ownTrainable = parameters().Where(p => p.requires_grad).Sum(p => p.numel());
        long adapterCount = adapters?.parameters().Sum(p => p.numel()) ?? 0;
        return new TrainableParameterReport(backboneTrainable + ownTrainable, backboneTotal + own, adapterCount, own - adapterCount);
    }

    /// <summary>Predicted class index per example (eval mode, no gradients); batches of <paramref name="batchSize"/>.</summary>
    public int[] Predict(IReadOnlyList<PromptExample> examples, int batchSize = 16)
    {
        var result = new int[examples.Count];
        RunEval(examples, batchSize, (start, logits) =>
        {
            using var arg = logits.argmax(-1);
            var values = arg.data<long>().ToArray();
            for (int i = 0; i < values.Length; i++) result[start + i] = (int)values[i];
        });
        return result;
    }

    /// <summary>Class probabilities (N, C) as a CPU float tensor (eval mode, no gradients).</summary>
    public float[,] PredictProbabilities(IReadOnlyList<PromptExample> examples, int batchSize = 16)
    {
        var result = new float[examples.Count, Verbalizer.Count];
        RunEval(examples, batchSize, (start, logits) =>
        {
            using var p = functional.softmax(logits, -1);
            using var cpu = p.cpu();
            var values = cpu.data<float>().ToArray();
            for (int i = 0; i < values.Length; i++) result[start + i / Verbalizer.Count, i % Verbalizer.Count] = values[i];
        });
        return result;
    }

    /// <summary>Accuracy on labelled examples.</summary>
    public double Accuracy(IReadOnlyList<PromptExample> examples, int batchSize = 16)
    {
        if (examples.Count == 0) throw new ArgumentException("No examples to score.", nameof(examples));
        if (examples.Any(e => e.Label < 0)) throw new ArgumentException("Accuracy needs labelled examples.", nameof(examples));
        var predicted = Predict(examples, batchSize);
        return examples.Select((e, i) => e.Label == predicted[i] ? 1.0 : 0.0).Average();
    }

    private void RunEval(IReadOnlyList<PromptExample> examples, int batchSize, Action<int, Tensor> consume)
    {
        if (batchSize <= 0) throw new ArgumentOutOfRangeException(nameof(batchSize), batchSize, "batchSize must be positive.");
        bool wasTraining = training;
        eval();
        try
        {
            var device = Backbone.TokenEmbeddings.device;
            for (int start = 0; start < examples.Count; start += batchSize)
            {
                using var scope = NewDisposeScope();
                using var _ = no_grad();
                var batch = PromptBatch.Collate(examples.Skip(start).Take(batchSize).ToList(), PadId, device);
                consume(start, Logits(batch));
            }
        }
        finally { train(wasTraining); }
    }

    /// <summary>The padding id used when collating (the backbone's).</summary>
    public int PadId => Backbone.Config.PadTokenId;
}

/// <summary>Parameter counts of a prompt classifier (PEFT's print_trainable_parameters).</summary>
/// <param name="Trainable">Parameters with requires_grad.</param>
/// <param name="Total">Backbone plus adapters plus head copy.</param>
/// <param name="Adapters">Parameters in adapters.</param>
/// <param name="Head">Parameters in the label-word head.</param>
public sealed record TrainableParameterReport(long Trainable, long Total, long Adapters, long Head)
{
    /// <summary>Trainable share in percent.</summary>
    public double Percent => Total == 0 ? 0 : 100.0 * Trainable / Total;

    /// <inheritdoc/>
    public override string ToString() =>
        $"trainable params: {Trainable:N0} || all params: {Total:N0} || trainable%: {Percent:F4} (adapters {Adapters:N0}, head {Head:N0})";
}
