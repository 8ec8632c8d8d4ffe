using Microsoft.ML.Data;
using MLNetForgetting.MLNet.CrossLingual;
using MLNetForgetting.MLNet.Pretraining;

// Catalog extensions live in Microsoft.ML, as ML.NET's own do, so `using Microsoft.ML;` finds them.
namespace Microsoft.ML;

/// <summary>Featurizers on <c>mlContext.Transforms.Text</c>.</summary>
public static class MLNetForgettingTextCatalog
{
    /// <summary>
    /// Pretrains a RoBERTa-style masked language model on <paramref name="inputColumnName"/> with active
    /// forgetting (reset the token embeddings every <paramref name="resetInterval"/> updates; 0 = standard
    /// pretraining) and adds a mean-pooled sentence embedding column <paramref name="outputColumnName"/>.
    /// </summary>
    /// <param name="catalog">The text transforms catalog.</param>
    /// <param name="outputColumnName">Name of the sentence-embedding column (vector of Single).</param>
    /// <param name="inputColumnName">Name of the text column; defaults to "Text".</param>
    /// <param name="resetInterval">K, the updates per forgetting episode; 0 for standard pretraining.</param>
    /// <param name="maxSteps">Total updates; 0 trains for one epoch over the data.</param>
    /// <param name="modelPreset">"Tiny", "Small" or "Base".</param>
    public static ActiveForgettingPretrainer ActiveForgettingPretrainer(this TransformsCatalog.TextTransforms catalog,
        string outputColumnName = "Features", string inputColumnName = "Text", long resetInterval = 1000, long maxSteps = 0, string modelPreset = "Small") =>
        ActiveForgettingPretrainer(catalog, new ActiveForgettingPretrainer.Options
        {
            OutputColumnName = outputColumnName, InputColumnName = inputColumnName, ResetInterval = resetInterval, MaxSteps = maxSteps, ModelPreset = modelPreset,
        });

    /// <summary>Active-forgetting pretraining configured by <paramref name="options"/>.</summary>
    public static ActiveForgettingPretrainer ActiveForgettingPretrainer(this TransformsCatalog.TextTransforms catalog, ActiveForgettingPretrainer.Options options)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        return new ActiveForgettingPretrainer(CatalogUtils.GetEnvironment(catalog), options);
    }

    /// <summary>
    /// Relearns token embeddings for a new language on <paramref name="inputColumnName"/> (a new BPE
    /// vocabulary, fresh embeddings, the body of <paramref name="languageModel"/> frozen).
    /// </summary>
    /// <param name="catalog">The text transforms catalog.</param>
    /// <param name="languageModel">The pretrained model (not modified).</param>
    /// <param name="outputColumnName">Sentence-embedding column of the relearned model.</param>
    /// <param name="inputColumnName">Target-language text column.</param>
    /// <param name="maxTokens">Token budget: tokens read, repeats counted (not the paper's 5M, which is the size of the corpus: see <c>RelearningSettings.CorpusTokenCap</c>).</param>
    public static EmbeddingRelearner EmbeddingRelearner(this TransformsCatalog.TextTransforms catalog, LanguageModelTransformer languageModel,
        string outputColumnName = "Features", string inputColumnName = "Text", long? maxTokens = null) =>
        EmbeddingRelearner(catalog, new EmbeddingRelearner.Options
        {
            LanguageModel = languageModel, OutputColumnName = outputColumnName, InputColumnName = inputColumnName,
            Settings = new MLNetForgetting.Adaptation.RelearningSettings { MaxTokens = maxTokens },
        });

    /// <summary>Embedding relearning configured by <paramref name="options"/>.</summary>
    public static EmbeddingRelearner EmbeddingRelearner(this TransformsCatalog.TextTransforms catalog, EmbeddingRelearner.Options options)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        return new EmbeddingRelearner(CatalogUtils.GetEnvironment(catalog), options);
    }
}
