// Consumption code in the shape ML.NET Model Builder generates (MLModel1.consumption.cs): ModelInput and
// ModelOutput classes, a lazily created PredictionEngine and static Predict helpers. The model is a
// sentence-pair classifier zip as written by mlContext.MulticlassClassification.Trainers.SentencePairClassification
// or CrossLingualAssembly.Assemble (and by `mlnf finetune` / `mlnf assemble`), alone or after its
// MapValueToKey("Label") step.
using Microsoft.ML;
using Microsoft.ML.Data;
using MLNetForgetting.MLNet.Classification;

namespace ConsumeModel;

public partial class SentencePairModel
{
    /// <summary>Model input class for SentencePairModel.</summary>
    public class ModelInput
    {
        [ColumnName(@"Sentence1")]
        public string Sentence1 { get; set; } = "";

        [ColumnName(@"Sentence2")]
        public string Sentence2 { get; set; } = "";

        /// <summary>
        /// Not used for prediction. Present because a zip saved together with its MapValueToKey("Label")
        /// step reads the column; an empty label is a missing key there and changes nothing.
        /// </summary>
        [ColumnName(@"Label")]
        public string Label { get; set; } = "";
    }

    /// <summary>Model output class for SentencePairModel.</summary>
    public class ModelOutput
    {
        /// <summary>The most probable label's name.</summary>
        [ColumnName(@"PredictedLabel")]
        public string PredictedLabel { get; set; } = "";

        /// <summary>Class probabilities, in the order of <see cref="GetLabels"/>.</summary>
        [ColumnName(@"Score")]
        public float[] Score { get; set; } = [];
    }

    /// <summary>Environment variable read for the default <see cref="MLNetModelPath"/>.</summary>
    public const string ModelPathVariable = "MLNF_MODEL_PATH";

    private static string _modelPath = Path.GetFullPath(
        Environment.GetEnvironmentVariable(ModelPathVariable) is { Length: > 0 } fromEnvironment ? fromEnvironment : "SentencePairModel.zip");

    /// <summary>
    /// The model zip ($MLNF_MODEL_PATH, else SentencePairModel.zip in the working folder). Set it before the
    /// first prediction: the engine is created once, on first use.
    /// </summary>
    public static string MLNetModelPath
    {
        get => _modelPath;
        set
        {
            ArgumentException.ThrowIfNullOrWhiteSpace(value);
            if (LoadedModel.IsValueCreated)
                throw new InvalidOperationException($"The model was already loaded from '{_modelPath}'; set MLNetModelPath before the first prediction.");
            _modelPath = Path.GetFullPath(value);
        }
    }

    private static readonly Lazy<Loaded> LoadedModel = new(() => Load(MLNetModelPath), isThreadSafe: true);

    /// <summary>The prediction engine, created on first use. Like Model Builder's, it is not thread-safe: use one per thread or a pool (examples/ServeModel).</summary>
    public static readonly Lazy<PredictionEngine<ModelInput, ModelOutput>> PredictEngine = new(() => LoadedModel.Value.CreatePredictionEngine(), isThreadSafe: true);

    /// <summary>Predicts the label of one sentence pair.</summary>
    public static ModelOutput Predict(ModelInput input) => PredictEngine.Value.Predict(input);

    /// <summary>Every label with its probability, most probable first.</summary>
    public static IOrderedEnumerable<KeyValuePair<string, float>> PredictAllLabels(ModelInput input) => GetSortedScoresWithLabels(Predict(input));

    /// <summary>Pairs each score of <paramref name="result"/> with its label name, most probable first.</summary>
    public static IOrderedEnumerable<KeyValuePair<string, float>> GetSortedScoresWithLabels(ModelOutput result) =>
        GetLabels().Zip(result.Score, KeyValuePair.Create).OrderByDescending(pair => pair.Value);

    /// <summary>The label names in score order (the training label's key values).</summary>
    public static IReadOnlyList<string> GetLabels() => LoadedModel.Value.LabelNames;

    /// <summary>
    /// Loads a classifier zip for use outside the static helpers (e.g. one engine per thread): registers
    /// this library with ML.NET's component catalog, checks the columns, and appends MapKeyToValue so
    /// PredictedLabel comes out as the label's name.
    /// </summary>
    /// <exception cref="FileNotFoundException">No file at <paramref name="path"/>.</exception>
    /// <exception cref="InvalidDataException">The zip is not a sentence-pair classifier over Sentence1/Sentence2.</exception>
    public static Loaded Load(string path, MLContext? mlContext = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        string full = Path.GetFullPath(path);
        if (!File.Exists(full))
            throw new FileNotFoundException($"Model zip '{full}' does not exist. Make one with `mlnf finetune` or `mlnf assemble`, or run examples/ConsumeModel without arguments.", full);
        var ml = mlContext ?? new MLContext();
        // ML.NET finds our loader only in assemblies it knows; loading the zip must not depend on whether
        // the library happened to be loaded already.
        ml.ComponentCatalog.RegisterAssembly(typeof(SentencePairClassifierTransformer).Assembly);
        var model = ml.Model.Load(full, out _);
        var empty = ml.Data.LoadFromEnumerable(Array.Empty<ModelInput>());
        DataViewSchema output;
        try { output = model.GetOutputSchema(empty.Schema); }
        catch (Exception e) when (e is ArgumentOutOfRangeException or InvalidOperationException)
        {
            throw new InvalidDataException($"'{full}' does not take the columns Sentence1 and Sentence2 (text): {e.Message}", e);
        }
        if (output.GetColumnOrNull("Score") is not { Type: VectorDataViewType { ItemType: NumberDataViewType } })
            throw new InvalidDataException($"'{full}' has no Score column (a vector of class probabilities); is it a sentence-pair classifier?");
        if (output.GetColumnOrNull("PredictedLabel") is not { Type: KeyDataViewType } predicted || !predicted.HasKeyValues())
            throw new InvalidDataException($"'{full}' has no PredictedLabel key column with label names; is it a sentence-pair classifier?");
        VBuffer<ReadOnlyMemory<char>> names = default;
        predicted.GetKeyValues(ref names);
        var labelNames = names.DenseValues().Select(name => name.ToString()).ToArray();
        var toName = ml.Transforms.Conversion.MapKeyToValue("PredictedLabel").Fit(model.Transform(empty));
        return new Loaded(ml, model.Append(toName), labelNames);
    }

    /// <summary>A loaded classifier whose PredictedLabel is the label's name. Thread-safe; its engines are not.</summary>
    public sealed class Loaded(MLContext mlContext, ITransformer transformer, IReadOnlyList<string> labelNames)
    {
        /// <summary>The context the model was loaded in.</summary>
        public MLContext Context { get; } = mlContext;

        /// <summary>The classifier followed by MapKeyToValue("PredictedLabel").</summary>
        public ITransformer Transformer { get; } = transformer;

        /// <summary>Label names in score order.</summary>
        public IReadOnlyList<string> LabelNames { get; } = labelNames;

        /// <summary>A new engine over the shared weights; the engine does not own (dispose) the model.</summary>
        public PredictionEngine<ModelInput, ModelOutput> CreatePredictionEngine() =>
            Context.Model.CreatePredictionEngine<ModelInput, ModelOutput>(Transformer, new PredictionEngineOptions { OwnsTransformer = false });

        /// <summary>Predicts many pairs through the batched transform (one forward pass per batch of rows).</summary>
        public ModelOutput[] PredictBatch(IEnumerable<ModelInput> inputs) =>
            Context.Data.CreateEnumerable<ModelOutput>(Transformer.Transform(Context.Data.LoadFromEnumerable(inputs)), reuseRowObject: false).ToArray();
    }
}
