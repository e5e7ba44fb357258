package io.trainwatch.architecture;

import com.tngtech.archunit.core.importer.ImportOption;
import com.tngtech.archunit.junit.AnalyzeClasses;
import com.tngtech.archunit.junit.ArchTest;
import com.tngtech.archunit.lang.ArchRule;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;
import static com.tngtech.archunit.library.GeneralCodingRules.NO_CLASSES_SHOULD_USE_JAVA_UTIL_LOGGING;
import static com.tngtech.archunit.library.dependencies.SlicesRuleDefinition.slices;

/**
 * How the packages of trainwatch may depend on each other. The rules name packages by pattern
 * ({@code ..} includes sub-packages), so they keep holding when classes move between or below them.
 */
@AnalyzeClasses(packages = "io.trainwatch", importOptions = ImportOption.DoNotIncludeTests.class)
class PackageRulesTest {

    /**
     * The schedule math, events, detection, thresholds, importers, simulator, report and
     * notifications are unit-tested with new.
     */
    @ArchTest
    static final ArchRule shouldKeepFlinkOutOfThePureCore =
            noClasses()
                    .that()
                    .resideInAnyPackage(
                            "io.trainwatch.schedule..",
                            "io.trainwatch.event..",
                            "io.trainwatch.detect..",
                            "io.trainwatch.threshold..",
                            "io.trainwatch.report..",
                            "io.trainwatch.importer..",
                            "io.trainwatch.simulate..",
                            "io.trainwatch.notify..")
                    .should()
                    .dependOnClassesThat()
                    .resideInAPackage("org.apache.flink..")
                    .because("the pure core must stay testable without a Flink runtime");

    /** One slice per capability package (io.trainwatch.detect and everything below it, ...). */
    @ArchTest
    static final ArchRule shouldHaveNoCyclesBetweenPackages =
            slices().matching("io.trainwatch.(*)..").should().beFreeOfCycles();

    /**
     * The same inside a capability: a sub-package (detect.lr) may use its parent's types only if
     * the parent does not use it back.
     */
    @ArchTest
    static final ArchRule shouldHaveNoCyclesBetweenSubPackages =
            slices().matching("io.trainwatch.(**)").should().beFreeOfCycles();

    /**
     * The commands a user types sit on top; the entry points (TrainwatchCli, FlinkEntryPoint) live
     * there too.
     */
    @ArchTest
    static final ArchRule shouldKeepTheCommandLineOnTop =
            noClasses()
                    .that()
                    .resideOutsideOfPackage("io.trainwatch.cli..")
                    .should()
                    .dependOnClassesThat()
                    .resideInAPackage("io.trainwatch.cli..");

    /**
     * Only the command line decides the exit code; inside a Flink JobManager System.exit would take
     * it down.
     */
    @ArchTest
    static final ArchRule shouldExitOnlyFromTheCommandLine =
            noClasses()
                    .that()
                    .resideOutsideOfPackage("io.trainwatch.cli..")
                    .should()
                    .callMethod(System.class, "exit", int.class);

    /** Everything logs through slf4j, bound to log4j. */
    @ArchTest
    static final ArchRule shouldNotUseJavaUtilLogging = NO_CLASSES_SHOULD_USE_JAVA_UTIL_LOGGING;
}
