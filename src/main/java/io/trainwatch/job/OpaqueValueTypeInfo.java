package io.trainwatch.job;

import org.apache.flink.api.common.typeinfo.TypeInformation;

/**
 * The type information of a value Flink carries as one field with a serializer of its own (see
 * {@link TrainwatchTypes}): not basic, not a tuple, never a key. Subclasses name the class and
 * create the serializer; two infos are equal when they are of the same subclass.
 */
public abstract class OpaqueValueTypeInfo<T> extends TypeInformation<T> {
    private final Class<T> type;

    protected OpaqueValueTypeInfo(Class<T> type) {
        this.type = type;
    }

    @Override
    public boolean isBasicType() {
        return false;
    }

    @Override
    public boolean isTupleType() {
        return false;
    }

    @Override
    public int getArity() {
        return 1;
    }

    @Override
    public int getTotalFields() {
        return 1;
    }

    @Override
    public Class<T> getTypeClass() {
        return type;
    }

    @Override
    public boolean isKeyType() {
        return false;
    }

    @Override
    public String toString() {
        return type.getSimpleName();
    }

    @Override
    public boolean equals(Object o) {
        return o != null && o.getClass() == getClass();
    }

    @Override
    public int hashCode() {
        return getClass().hashCode();
    }

    @Override
    public boolean canEqual(Object o) {
        return o != null && o.getClass() == getClass();
    }
}
