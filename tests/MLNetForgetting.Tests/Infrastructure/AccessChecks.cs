// Tests compile against the publicized ML.NET references (build/Publicize.targets) to reach
// SchemaShape.Create, AnnotationUtils and friends; CoreCLR honours this attribute by name. The
// attribute type is the library's internal one (InternalsVisibleTo), so it is not declared twice.
[assembly: System.Runtime.CompilerServices.IgnoresAccessChecksTo("Microsoft.ML.Core")]
[assembly: System.Runtime.CompilerServices.IgnoresAccessChecksTo("Microsoft.ML.Data")]
