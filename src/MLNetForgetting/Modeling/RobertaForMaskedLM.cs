using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace MLNetForgetting.Modeling;

#pragma warning disable IDE1006 // Hugging Face RoBERTa names

/// <summary>
/// RoBERTa-style masked language model: <c>roberta</c> (embeddings + encoder), <c>lm_head</c> with
/// its decoder tied to the token embeddings E, and an optional sequence <c>classifier</c>. Parameter
/// names are Hugging Face's (<c>roberta.embeddings.word_embeddings.weight</c>, ...).
/// <para>Terms (docs/methods.md): <b>token embeddings</b> = E; <b>body</b> = every other parameter.</para>
/// </summary>
public sealed class RobertaForMaskedLM : Module<Tensor, Tensor, Tensor>
{
    /// <summary>The state-dict key of E.</summary>
    public const string TokenEmbeddingsKey = "roberta.embeddings.word_embeddings.weight";
    /// <summary>Label value of positions that are not predicted (PyTorch's ignore_index).</summary>
    public const long IgnoreIndex = -100;

    private readonly RobertaModel roberta;
    private readonly RobertaLMHead lm_head;
    private RobertaClassificationHead? classifier;

    public RobertaForMaskedLM(RobertaConfig config) : base(nameof(RobertaForMaskedLM))
    {
        config.Validate();
        Config = config;
        roberta = new RobertaModel(config);
        lm_head = new RobertaLMHead(config);
        if (config.NumLabels > 0) classifier = new RobertaClassificationHead(config, config.NumLabels);
        RegisterComponents();
    }

    /// <summary>The architecture; <see cref="RobertaConfig.VocabSize"/> and <see cref="RobertaConfig.NumLabels"/> follow replacements.</summary>
    public RobertaConfig Config { get; private set; }

    internal RobertaModel Roberta => roberta;
    internal RobertaLMHead LMHead => lm_head;
    internal RobertaClassificationHead? Classifier => classifier;

    /// <summary>E, shape (V, d); the MLM decoder uses this very tensor.</summary>
    public Parameter TokenEmbeddings => roberta.Embeddings.TokenEmbeddings.weight!;

    /// <summary>Hidden states (B, T, d).</summary>
    public override Tensor forward(Tensor inputIds, Tensor attentionMask) => roberta.forward(inputIds, attentionMask);

    /// <summary>MLM logits for hidden states of any leading shape.</summary>
    public Tensor MlmLogits(Tensor hidden) => lm_head.forward(hidden, TokenEmbeddings);

    /// <summary>
    /// Masked-LM loss (mean cross-entropy) and the number of correct predictions, computing the
    /// vocabulary projection only at predicted positions (labels != -100): about 15% of the tokens,
    /// which is most of the MLM head's cost.
    /// </summary>
    public (Tensor Loss, long Correct, long Predicted) MaskedLmLoss(Tensor inputIds, Tensor attentionMask, Tensor labels)
    {
        using var hidden = forward(inputIds, attentionMask);
        using var flatLabels = labels.reshape(-1);
        using var selected = flatLabels.ne(IgnoreIndex);
        using var index = selected.nonzero().squeeze(1);
        long n = index.shape[0];
        using var flatHidden = hidden.reshape(-1, hidden.shape[2]);
        if (n == 0) return (flatHidden.sum() * 0.0, 0, 0); // keeps the graph; nothing to predict
        using var picked = flatHidden.index_select(0, index);
        using var targets = flatLabels.index_select(0, index);
        using var logits = MlmLogits(picked);
        var loss = functional.cross_entropy(logits, targets);
        long correct;
        using (no_grad())
        using (var predicted = logits.argmax(-1))
        using (var hits = predicted.eq(targets))
            correct = hits.sum().item<long>();
        return (loss, correct, n);
    }

    /// <summary>Mean of the final hidden states over real tokens: (B, d). The sentence embedding.</summary>
    public Tensor MeanPooled(Tensor inputIds, Tensor attentionMask)
    {
        using var hidden = forward(inputIds, attentionMask);
        using var mask = attentionMask.to(hidden.dtype).unsqueeze(-1);
        using var summed = (hidden * mask).sum(1);
        using var counts = mask.sum(1).clamp_min(1.0);
        return summed / counts;
    }

    /// <summary>Classifier logits (B, numLabels); requires <see cref="AddClassifier"/>.</summary>
    public Tensor ClassifierLogits(Tensor inputIds, Tensor attentionMask)
    {
        if (classifier is null) throw new InvalidOperationException("This model has no classification head; call AddClassifier first.");
        using var hidden = forward(inputIds, attentionMask);
        return classifier.forward(hidden);
    }

    /// <summary>Adds (or replaces) a freshly initialised classification head with <paramref name="numLabels"/> classes.</summary>
    public void AddClassifier(int numLabels, Generator? generator = null)
    {
        if (numLabels < 2) throw new ArgumentOutOfRangeException(nameof(numLabels), numLabels, "A classifier needs at least 2 classes.");
        var head = new RobertaClassificationHead(Config, numLabels);
        var device = TokenEmbeddings.device;
        head.to(device);
        InitializeModule(head, generator);
        classifier = head;
        register_module(nameof(classifier), head);
        Config = Config with { NumLabels = numLabels };
    }

    /// <summary>
    /// Re-draws E in place from N(0, σ²) with the padding row zero ([AF], docs/methods.md §1.1). In place keeps the
    /// tied decoder and any optimizer pointing at the same tensor.
    /// </summary>
    public void ResetTokenEmbeddings(Generator? generator = null)
    {
        using (no_grad())
        {
            TokenEmbeddings.normal_(0.0, Config.InitializerRange, generator);
            TokenEmbeddings[Config.PadTokenId].zero_();
        }
    }

    /// <summary>
    /// Replaces E by a fresh N(0, σ²) table for a new vocabulary of <paramref name="vocabSize"/> ids
    /// (relearning, docs/methods.md §2 stage 2) and zeroes the MLM output bias, resized to match.
    /// Every body parameter stays the same tensor with the same values.
    /// </summary>
    public void ReplaceTokenEmbeddings(int vocabSize, Generator? generator = null) => ReplaceTokenEmbeddings(vocabSize, Config.PadTokenId, Config.SeparatorTokenId, generator);

    /// <summary>
    /// As <see cref="ReplaceTokenEmbeddings(int, Generator?)"/>, for a vocabulary with its own padding and
    /// separator ids ([PAD] 0 and [SEP] 102 in BERT's, &lt;pad&gt; 1 and &lt;/s&gt; 2 in ours). Only BERT-type
    /// models take another padding id (their positions do not depend on it); the ids go into <see cref="Config"/>.
    /// </summary>
    public void ReplaceTokenEmbeddings(int vocabSize, int padId, int separatorId, Generator? generator = null)
    {
        var device = TokenEmbeddings.device;
        var embedding = Embedding(vocabSize, Config.HiddenSize, padding_idx: padId, device: device);
        roberta.Embeddings.ReplaceTokenEmbeddings(embedding, padId, separatorId);
        Config = Config with { VocabSize = vocabSize, PadTokenId = padId, SeparatorTokenId = Config.SeparatorTokenId >= 0 ? separatorId : Config.SeparatorTokenId };
        ResetTokenEmbeddings(generator);
        lm_head.ResetBias(vocabSize);
    }

    /// <summary>Copies E (and the MLM output bias) from another model: assembly (docs/methods.md §2 stage 4).</summary>
    public void CopyTokenEmbeddingsFrom(RobertaForMaskedLM source)
    {
        int vocab = (int)source.TokenEmbeddings.shape[0];
        if (vocab != Config.VocabSize || source.Config.PadTokenId != Config.PadTokenId || source.Config.SeparatorTokenId != Config.SeparatorTokenId)
            ReplaceTokenEmbeddings(vocab, source.Config.PadTokenId, source.Config.SeparatorTokenId);
        using (no_grad())
        {
            TokenEmbeddings.copy_(source.TokenEmbeddings);
            lm_head.Bias.copy_(source.LMHead.Bias);
        }
    }

    /// <summary>Hugging Face RoBERTa initialisation: Linear and Embedding N(0, σ²) (padding rows 0), biases 0, LayerNorm 1/0.</summary>
    public void InitializeWeights(Generator? generator = null) => InitializeModule(this, generator);

    private void InitializeModule(Module module, Generator? generator)
    {
        double std = Config.InitializerRange;
        using var _ = no_grad();
        foreach (var (_, m) in module.named_modules())
        {
            switch (m)
            {
                case Linear linear:
                    linear.weight!.normal_(0.0, std, generator);
                    linear.bias?.zero_();
                    break;
                case Embedding embedding:
                    embedding.weight!.normal_(0.0, std, generator);
                    if (embedding.weight.shape[0] > Config.PadTokenId && !ReferenceEquals(embedding, roberta.Embeddings.TokenTypeEmbeddings)
                        && !(Config.IsBert && ReferenceEquals(embedding, roberta.Embeddings.PositionEmbeddings)))
                        embedding.weight[Config.PadTokenId].zero_();
                    break;
                case LayerNorm norm:
                    norm.weight!.fill_(1.0);
                    norm.bias!.zero_();
                    break;
            }
        }
        if (ReferenceEquals(module, this)) lm_head.Bias.zero_();
    }

    /// <summary>Named parameters of the body: everything but E.</summary>
    public IEnumerable<(string Name, Parameter Parameter)> BodyParameters() =>
        named_parameters().Where(p => p.name != TokenEmbeddingsKey).Select(p => (p.name, p.parameter));

    /// <summary>All tensors by their Hugging Face-style names (parameters; this model has no buffers).</summary>
    public Dictionary<string, Tensor> NamedTensors() => named_parameters().ToDictionary(p => p.name, p => (Tensor)p.parameter);

    /// <summary>
    /// Loads tensors by name, exactly: every parameter must be present with its shape, and no key may
    /// be left over. Differences are listed in one <see cref="InvalidDataException"/>.
    /// </summary>
    public void LoadNamedTensors(IReadOnlyDictionary<string, Tensor> tensors)
    {
        var own = named_parameters().ToDictionary(p => p.name, p => p.parameter);
        var missing = own.Keys.Where(k => !tensors.ContainsKey(k)).OrderBy(k => k, StringComparer.Ordinal).ToList();
        var unexpected = tensors.Keys.Where(k => !own.ContainsKey(k)).OrderBy(k => k, StringComparer.Ordinal).ToList();
        var misShaped = own.Where(kv => tensors.TryGetValue(kv.Key, out var t) && !t.shape.SequenceEqual(kv.Value.shape))
            .Select(kv => $"{kv.Key} (expected [{string.Join(",", kv.Value.shape)}], got [{string.Join(",", tensors[kv.Key].shape)}])").ToList();
        if (missing.Count + unexpected.Count + misShaped.Count > 0)
        {
            var parts = new List<string>();
            if (missing.Count > 0) parts.Add("missing: " + string.Join(", ", missing));
            if (unexpected.Count > 0) parts.Add("unexpected: " + string.Join(", ", unexpected));
            if (misShaped.Count > 0) parts.Add("mis-shaped: " + string.Join(", ", misShaped));
            throw new InvalidDataException("Weights do not match the model architecture; " + string.Join("; ", parts) + ".");
        }
        using var _ = no_grad();
        foreach (var (name, p) in own) p.copy_(tensors[name]);
    }
}
