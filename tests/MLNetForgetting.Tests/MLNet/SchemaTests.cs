using Microsoft.ML;
using Microsoft.ML.Data;
using MLNetForgetting.MLNet;

namespace MLNetForgetting.Tests.MLNet;

[TestClass]
public sealed class SchemaTests
{
    private sealed class TextRow
    {
        public string Text { get; set; } = "";
        [VectorType(5)] public float[] Short { get; set; } = new float[5];
    }

    private sealed class VariableRow
    {
        public float[] Features { get; set; } = Array.Empty<float>(); // no [VectorType]: variable size
    }

    private static TorchProjectionEstimator Estimator(MLContext ml, string input) =>
        ml.Transforms.TorchProjection("Projection", input, outputSize: 2);

    [TestMethod]
    public void Missing_column_fails_at_GetOutputSchema_and_Fit_naming_column_and_role()
    {
        var ml = new MLContext(seed: 1);
        var data = ml.Data.LoadFromEnumerable(new[] { new TextRow() });
        var est = Estimator(ml, "Nope");
        var e1 = Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => est.GetOutputSchema(SchemaShape.Create(data.Schema)));
        StringAssert.StartsWith(e1.Message, "Could not find input column 'Nope' (role: features)");
        var e2 = Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => est.Fit(data));
        StringAssert.StartsWith(e2.Message, "Could not find input column 'Nope' (role: features)");
    }

    [TestMethod]
    public void Wrong_type_fails_naming_column_role_expected_and_actual()
    {
        var ml = new MLContext(seed: 1);
        var data = ml.Data.LoadFromEnumerable(new[] { new TextRow() });
        var est = Estimator(ml, "Text");
        var e1 = Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => est.GetOutputSchema(SchemaShape.Create(data.Schema)));
        StringAssert.StartsWith(e1.Message, "Schema mismatch for input column 'Text' (role: features): expected Vector<Single>, got String");
        var e2 = Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => est.Fit(data));
        StringAssert.StartsWith(e2.Message, "Schema mismatch for input column 'Text' (role: features): expected Vector<Single>, got String");
    }

    [TestMethod]
    public void Variable_size_vector_is_rejected_at_Fit()
    {
        var ml = new MLContext(seed: 1);
        var data = ml.Data.LoadFromEnumerable(new[] { new VariableRow { Features = new float[] { 1, 2 } } });
        var e = Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => Estimator(ml, "Features").Fit(data));
        StringAssert.Contains(e.Message, "'Features' (role: features): expected Vector<Single> of known size, got Vector<Single>");
    }

    [TestMethod]
    public void Fitted_transformer_rejects_a_vector_of_another_size()
    {
        var (ml, model, _) = ProjectionFixture.Fit();
        var projection = ((IEnumerable<ITransformer>)model).Last();
        var other = ml.Data.LoadFromEnumerable(new[] { new TextRow() });
        var renamed = ml.Transforms.CopyColumns("Features", "Short").Fit(other).Transform(other);
        var e = Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => projection.GetOutputSchema(renamed.Schema));
        StringAssert.StartsWith(e.Message, "Schema mismatch for input column 'Features' (role: features): expected Vector<Single, 6>, got Vector<Single, 5>");
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => projection.Transform(renamed));
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => projection.GetRowToRowMapper(renamed.Schema));
    }

    [TestMethod]
    public void Estimator_and_transformer_output_schemas_agree()
    {
        var (ml, model, train) = ProjectionFixture.Fit();
        var shape = ProjectionFixture.Pipeline(ml).GetOutputSchema(SchemaShape.Create(train.Schema));
        Assert.IsTrue(shape.TryFindColumn("Projection", out var col));
        Assert.AreEqual(SchemaShape.Column.VectorKind.Vector, col.Kind);
        Assert.AreEqual(NumberDataViewType.Single, col.ItemType);
        var schema = model.GetOutputSchema(train.Schema);
        Assert.AreEqual(new VectorDataViewType(NumberDataViewType.Single, ProjectionFixture.OutputSize), schema["Projection"].Type);
        Assert.AreEqual(train.Schema["Id"].Type, schema["Id"].Type);
    }

    [TestMethod]
    public void Key_output_spec_carries_key_values()
    {
        var spec = ColumnSpec.Key("PredictedLabel", "predicted label", new[] { "neg", "pos" });
        var type = (KeyDataViewType)spec.ToDataViewType();
        Assert.AreEqual(2ul, type.Count);
        var builder = new DataViewSchema.Builder();
        builder.AddColumn(spec.Name, type, spec.OutputAnnotations());
        var column = builder.ToSchema()[spec.Name];
        VBuffer<ReadOnlyMemory<char>> names = default;
        column.GetKeyValues(ref names);
        CollectionAssert.AreEqual(new[] { "neg", "pos" }, names.DenseValues().Select(m => m.ToString()).ToArray());
        var shapeColumn = spec.ToSchemaShapeColumn();
        Assert.IsTrue(shapeColumn.IsKey);
        Assert.IsTrue(shapeColumn.Annotations.TryFindColumn(AnnotationUtils.Kinds.KeyValues, out _));
    }
}
