using Microsoft.ML.Data;
using MLNetForgetting.MLNet.CrossLingual;
using MLNetForgetting.MLNet.Pretraining;
using MLNetForgetting.Training;

// Catalog extensions live in Microsoft.ML, as ML.NET's own do, so `using Microsoft.ML;` finds them.
namespace Microsoft.ML;

/// <summary>Featurizers on <c>mlContext.Transforms.Text</c>.</summary>
public static class MLNetForgettingTextCatalog
{
    /// <summary>
    /// Pretrains a RoBERTa-style masked language model on <paramref name="inputColumnName"/> with active
    /// forgetting (reset the token embeddings every <paramref name="resetInterval"/> updates; 0 = standard
    /// pretraining) and adds a mean-pooled sentence embedding column <paramref name="outputColumnName"/>.
    /// The defaults are the paper's (peak learning rate 7e-4, batch 32, K = 1000); K must leave at least two
    /// episodes in the run, which is logged as a warning otherwise. Progress goes to <c>MLContext.Log</c>.
    /// </summary>
    /// <param name="catalog">The text transforms catalog.</param>
    /// <param name="outputColumnName">Name of the sentence-embedding column (vector of Single).</param>
    /// <param name="inputColumnName">Name of the text column; defaults to "Text".</param>
    /// <param name="resetInterval">K, the updates per forgetting episode; 0 for standard pretraining.</param>
    /// <param name="maxSteps">Total updates; 0 trains for <paramref name="maxEpochs"/> epochs over the data.</param>
    /// <param name="modelPreset">"Tiny", "Small" or "Base".</param>
    /// <param name="maxEpochs">Epochs over the data when <paramref name="maxSteps"/> is 0.</param>
    /// <param name="batchSize">Sequences per update.</param>
    /// <param name="learningRate">Peak learning rate of the body and of the token embeddings.</param>
    /// <param name="progress">Receives progress after every update (optional).</param>
    public static ActiveForgettingPretrainer ActiveForgettingPretrainer(this TransformsCatalog.TextTransforms catalog,
        string outputColumnName = "Features", string inputColumnName = "Text", long resetInterval = 1000, long maxSteps = 0, string modelPreset = "Small",
        int maxEpochs = 1, int batchSize = 32, double learningRate = 7e-4, IProgress<TrainingProgress>? progress = null) =>
        ActiveForgettingPretrainer(catalog, new ActiveForgettingPretrainer.Options
        {
            OutputColumnName = outputColumnName, InputColumnName = inputColumnName, ResetInterval = resetInterval, MaxSteps = maxSteps, ModelPreset = modelPreset,
            MaxEpochs = maxEpochs, BatchSize = batchSize, LearningRate = learningRate, EmbeddingLearningRate = learningRate, Progress = progress,
        });

    /// <summary>Active-forgetting pretraining configured by <paramref name="options"/>.</summary>
    public static ActiveForgettingPretrainer ActiveForgettingPretrainer(this TransformsCatalog.TextTransforms catalog, ActiveForgettingPretrainer.Options options)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        return new ActiveForgettingPretrainer(CatalogUtils.GetEnvironment(catalog), options);
    }

    /// <summary>
    /// Relearns token embeddings for a new language on <paramref name="inputColumnName"/> (a new BPE
    /// vocabulary, fresh embeddings, the body of <paramref name="languageModel"/> frozen). Progress goes to
    /// <c>MLContext.Log</c>.
    /// </summary>
    /// <param name="catalog">The text transforms catalog.</param>
    /// <param name="languageModel">The pretrained model (not modified).</param>
    /// <param name="outputColumnName">Sentence-embedding column of the relearned model.</param>
    /// <param name="inputColumnName">Target-language text column.</param>
    /// <param name="maxTokens">Token budget of the relearning (the paper uses 5M tokens); when it and <paramref name="maxSteps"/> are both null, 1M tokens.</param>
    /// <param name="maxSteps">Update budget; with <paramref name="maxTokens"/> too, the smaller wins.</param>
    /// <param name="batchSize">Sequences per update.</param>
    /// <param name="learningRate">Peak learning rate of the embeddings (the paper: 7e-4).</param>
    /// <param name="progress">Receives progress after every update (optional).</param>
    /// <param name="vocabularySize">Size of the target-language vocabulary trained on the text (it needs about 10 characters of text per entry).</param>
    public static EmbeddingRelearner EmbeddingRelearner(this TransformsCatalog.TextTransforms catalog, LanguageModelTransformer languageModel,
        string outputColumnName = "Features", string inputColumnName = "Text", long? maxTokens = null,
        long? maxSteps = null, int batchSize = 32, double learningRate = 7e-4, IProgress<TrainingProgress>? progress = null, int vocabularySize = 8000) =>
        EmbeddingRelearner(catalog, new EmbeddingRelearner.Options
        {
            LanguageModel = languageModel, OutputColumnName = outputColumnName, InputColumnName = inputColumnName, Progress = progress, VocabularySize = vocabularySize,
            Settings = new MLNetForgetting.Adaptation.RelearningSettings
            {
                MaxTokens = maxTokens ?? (maxSteps is null ? DefaultRelearningTokens : null), MaxSteps = maxSteps, BatchSize = batchSize, LearningRate = learningRate,
            },
        });

    /// <summary>The token budget of the simple <c>EmbeddingRelearner</c> overload when none is given.</summary>
    public const long DefaultRelearningTokens = 1_000_000;

    /// <summary>Embedding relearning configured by <paramref name="options"/>.</summary>
    public static EmbeddingRelearner EmbeddingRelearner(this TransformsCatalog.TextTransforms catalog, EmbeddingRelearner.Options options)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        return new EmbeddingRelearner(CatalogUtils.GetEnvironment(catalog), options);
    }
}
