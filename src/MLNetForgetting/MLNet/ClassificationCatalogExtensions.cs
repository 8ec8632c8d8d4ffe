using Microsoft.ML.Data;
using MLNetForgetting.MLNet.CrossLingual;
using MLNetForgetting.MLNet.FewShot;
using MLNetForgetting.MLNet.Pretraining;

// Catalog extensions live in Microsoft.ML, as ML.NET's own do, so `using Microsoft.ML;` finds them.
namespace Microsoft.ML;

/// <summary>Classifiers on <c>mlContext.MulticlassClassification.Trainers</c>.</summary>
public static class MLNetForgettingClassificationCatalog
{
    /// <summary>
    /// LiST few-shot classification: prompt-based tuning of small adapters on the frozen
    /// <paramref name="languageModel"/>, with self-training on <paramref name="unlabelledData"/>.
    /// </summary>
    /// <param name="catalog">The multiclass trainers catalog.</param>
    /// <param name="languageModel">The backbone (not modified).</param>
    /// <param name="unlabelledData">Unlabelled rows with the same sentence columns (null: no self-training).</param>
    /// <param name="task">Built-in template and label words: MNLI, RTE, QQP, SST-2, mpqa or subj.</param>
    /// <param name="labelColumnName">The label key column.</param>
    /// <param name="sentence1ColumnName">The first sentence.</param>
    /// <param name="sentence2ColumnName">The second sentence of pair tasks.</param>
    public static PromptAdapterSelfTrainer PromptAdapterSelfTrainer(this MulticlassClassificationCatalog.MulticlassClassificationTrainers catalog,
        LanguageModelTransformer languageModel, IDataView? unlabelledData, string task = "SST-2", string labelColumnName = "Label",
        string sentence1ColumnName = "Sentence1", string? sentence2ColumnName = null) =>
        PromptAdapterSelfTrainer(catalog, new PromptAdapterSelfTrainer.Options
        {
            LanguageModel = languageModel, UnlabelledData = unlabelledData, Task = task, LabelColumnName = labelColumnName,
            Sentence1ColumnName = sentence1ColumnName, Sentence2ColumnName = sentence2ColumnName,
        });

    /// <summary>LiST few-shot classification configured by <paramref name="options"/>.</summary>
    public static PromptAdapterSelfTrainer PromptAdapterSelfTrainer(this MulticlassClassificationCatalog.MulticlassClassificationTrainers catalog, PromptAdapterSelfTrainer.Options options)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        return new PromptAdapterSelfTrainer(CatalogUtils.GetEnvironment(catalog), options);
    }

    /// <summary>
    /// Task adaptation: fine-tunes the body of <paramref name="languageModel"/> and a classification head
    /// on sentence pairs with the token embeddings frozen (the cross-lingual setting).
    /// </summary>
    /// <param name="catalog">The multiclass trainers catalog.</param>
    /// <param name="languageModel">The pretrained model (not modified).</param>
    /// <param name="labelColumnName">The label key column.</param>
    /// <param name="sentence1ColumnName">The premise.</param>
    /// <param name="sentence2ColumnName">The hypothesis.</param>
    public static SentencePairClassificationTrainer SentencePairClassification(this MulticlassClassificationCatalog.MulticlassClassificationTrainers catalog,
        LanguageModelTransformer languageModel, string labelColumnName = "Label", string sentence1ColumnName = "Sentence1", string sentence2ColumnName = "Sentence2") =>
        SentencePairClassification(catalog, new SentencePairClassificationTrainer.Options
        {
            LanguageModel = languageModel, LabelColumnName = labelColumnName, Sentence1ColumnName = sentence1ColumnName, Sentence2ColumnName = sentence2ColumnName,
        });

    /// <summary>Task adaptation configured by <paramref name="options"/>.</summary>
    public static SentencePairClassificationTrainer SentencePairClassification(this MulticlassClassificationCatalog.MulticlassClassificationTrainers catalog, SentencePairClassificationTrainer.Options options)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        return new SentencePairClassificationTrainer(CatalogUtils.GetEnvironment(catalog), options);
    }
}
