using Microsoft.ML.Data;
using MLNetForgetting.MLNet.CrossLingual;
using MLNetForgetting.MLNet.FewShot;
using MLNetForgetting.MLNet.Pretraining;
using MLNetForgetting.Adaptation;
using MLNetForgetting.SelfTraining;
using MLNetForgetting.Training;

// Catalog extensions live in Microsoft.ML, as ML.NET's own do, so `using Microsoft.ML;` finds them.
namespace Microsoft.ML;

/// <summary>Classifiers on <c>mlContext.MulticlassClassification.Trainers</c>.</summary>
public static class MLNetForgettingClassificationCatalog
{
    /// <summary>
    /// LiST few-shot classification: prompt-based tuning of small adapters on the frozen
    /// <paramref name="languageModel"/>, with self-training on <paramref name="unlabelledData"/>. The
    /// defaults are sized for small models and minutes on a CPU (see <see cref="FewShotDefaults"/>); the
    /// paper's schedule is <c>new SelfTrainingSettings()</c> in the options overload. Progress goes to <c>MLContext.Log</c>.
    /// </summary>
    /// <param name="catalog">The multiclass trainers catalog.</param>
    /// <param name="languageModel">The backbone (not modified).</param>
    /// <param name="unlabelledData">Unlabelled rows with the same sentence columns (null: no self-training).</param>
    /// <param name="task">Built-in template and label words: MNLI, RTE, QQP, SST-2, mpqa or subj.</param>
    /// <param name="labelColumnName">The label key column.</param>
    /// <param name="sentence1ColumnName">The first sentence.</param>
    /// <param name="sentence2ColumnName">The second sentence of pair tasks.</param>
    /// <param name="maxEpochs">Epochs of the teacher on the labelled rows (paper: 50).</param>
    /// <param name="batchSize">Labelled rows per update (paper: 4).</param>
    /// <param name="learningRate">Learning rate of the adapters, teacher and students (paper: 5e-6 teacher, 1e-4 student).</param>
    /// <param name="progress">Receives progress after every update (optional).</param>
    public static PromptAdapterSelfTrainer PromptAdapterSelfTrainer(this MulticlassClassificationCatalog.MulticlassClassificationTrainers catalog,
        LanguageModelTransformer languageModel, IDataView? unlabelledData, string task = "SST-2", string labelColumnName = "Label",
        string sentence1ColumnName = "Sentence1", string? sentence2ColumnName = null,
        int maxEpochs = FewShotDefaults.Epochs, int batchSize = FewShotDefaults.BatchSize, double learningRate = FewShotDefaults.LearningRate, IProgress<TrainingProgress>? progress = null) =>
        PromptAdapterSelfTrainer(catalog, new PromptAdapterSelfTrainer.Options
        {
            LanguageModel = languageModel, UnlabelledData = unlabelledData, Task = task, LabelColumnName = labelColumnName,
            Sentence1ColumnName = sentence1ColumnName, Sentence2ColumnName = sentence2ColumnName, Progress = progress,
            Settings = new SelfTrainingSettings
            {
                TeacherEpochs = maxEpochs, LabelledBatchSize = batchSize, TeacherLearningRate = learningRate, StudentLearningRate = learningRate,
                Rounds = FewShotDefaults.Rounds, PhaseAUpdates = FewShotDefaults.PhaseAUpdates, PhaseBEpochs = FewShotDefaults.StudentEpochs,
            },
        });

    /// <summary>LiST few-shot classification configured by <paramref name="options"/>.</summary>
    public static PromptAdapterSelfTrainer PromptAdapterSelfTrainer(this MulticlassClassificationCatalog.MulticlassClassificationTrainers catalog, PromptAdapterSelfTrainer.Options options)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        return new PromptAdapterSelfTrainer(CatalogUtils.GetEnvironment(catalog), options);
    }

    /// <summary>
    /// Task adaptation: fine-tunes the body of <paramref name="languageModel"/> and a classification head
    /// on sentence pairs with the token embeddings frozen (the cross-lingual setting). The defaults
    /// (10 epochs of batches of 16 at a constant 1e-3) are sized for small models: with them a Tiny model
    /// learns a small pair task that 3 epochs of batches of 32 leave at the majority class
    /// (<c>SimpleOverloadTests.The_simple_pair_classifier_defaults_learn_a_small_task_on_a_tiny_model</c>).
    /// The paper's values (10 epochs, batch 32, 1e-5, for RoBERTa-base) are <c>new TaskAdaptationSettings()</c>
    /// in the options overload, or <c>learningRate: 1e-5, batchSize: 32</c> here. Progress goes to <c>MLContext.Log</c>.
    /// </summary>
    /// <param name="catalog">The multiclass trainers catalog.</param>
    /// <param name="languageModel">The pretrained model (not modified).</param>
    /// <param name="labelColumnName">The label key column.</param>
    /// <param name="sentence1ColumnName">The premise.</param>
    /// <param name="sentence2ColumnName">The hypothesis.</param>
    /// <param name="maxEpochs">Passes over the pairs (paper: 10).</param>
    /// <param name="batchSize">Pairs per update (paper: 32).</param>
    /// <param name="learningRate">Learning rate of the body and the head, constant (paper: 1e-5, for RoBERTa-base; small models need about 1e-3).</param>
    /// <param name="progress">Receives progress after every update (optional).</param>
    public static SentencePairClassificationTrainer SentencePairClassification(this MulticlassClassificationCatalog.MulticlassClassificationTrainers catalog,
        LanguageModelTransformer languageModel, string labelColumnName = "Label", string sentence1ColumnName = "Sentence1", string sentence2ColumnName = "Sentence2",
        int maxEpochs = 10, int batchSize = 16, double learningRate = 1e-3, IProgress<TrainingProgress>? progress = null) =>
        SentencePairClassification(catalog, new SentencePairClassificationTrainer.Options
        {
            LanguageModel = languageModel, LabelColumnName = labelColumnName, Sentence1ColumnName = sentence1ColumnName, Sentence2ColumnName = sentence2ColumnName,
            Settings = new TaskAdaptationSettings { Epochs = maxEpochs, BatchSize = batchSize, LearningRate = learningRate }, Progress = progress,
        });

    /// <summary>Task adaptation configured by <paramref name="options"/>.</summary>
    public static SentencePairClassificationTrainer SentencePairClassification(this MulticlassClassificationCatalog.MulticlassClassificationTrainers catalog, SentencePairClassificationTrainer.Options options)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        return new SentencePairClassificationTrainer(CatalogUtils.GetEnvironment(catalog), options);
    }
}

/// <summary>
/// Defaults of the simple <c>PromptAdapterSelfTrainer</c> overload: the schedule <c>mlnf demo</c> runs on its
/// small models (teacher 10 epochs, one round of 20 meta-weighted updates, students 2 epochs, adapters at 1e-3),
/// minutes on a CPU. The paper's (teacher 50 epochs at 5e-6, 6 rounds of 1000 updates, students 50 epochs at
/// 1e-4, for RoBERTa-large) is <c>new SelfTrainingSettings()</c> in the options overload.
/// </summary>
public static class FewShotDefaults
{
    /// <summary>Teacher epochs.</summary>
    public const int Epochs = 10;
    /// <summary>Labelled rows per update (as the paper).</summary>
    public const int BatchSize = 4;
    /// <summary>Learning rate of the adapters, teacher and students.</summary>
    public const double LearningRate = 1e-3;
    /// <summary>Self-training rounds.</summary>
    public const int Rounds = 1;
    /// <summary>Meta-weighted updates per round.</summary>
    public const long PhaseAUpdates = 20;
    /// <summary>Epochs of each student on the teacher's pseudo-labels.</summary>
    public const int StudentEpochs = 2;
}
