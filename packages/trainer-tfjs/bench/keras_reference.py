"""The reference CNN of bench/reference.ts in Keras, trained as naskit trains it, for the speed
comparison of bench/keras.bench.ts. Reads commands on stdin, one per line:

  round STEPS   train STEPS steps of the batch size, reply {"imagesPerSecond": ..., ...}
  quit

Usage: python keras_reference.py --threads N --batch 64 --images IDX --labels IDX
"""
import argparse
import json
import os
import sys
import time

parser = argparse.ArgumentParser()
parser.add_argument("--threads", type=int, default=1)
parser.add_argument("--batch", type=int, default=64)
parser.add_argument("--images", required=True)
parser.add_argument("--labels", required=True)
args = parser.parse_args()

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

tf.config.threading.set_intra_op_parallelism_threads(args.threads)
tf.config.threading.set_inter_op_parallelism_threads(1)


def read_idx(path):
    with open(path, "rb") as f:
        data = f.read()
    rank = data[3]
    dims = [int.from_bytes(data[4 + 4 * i : 8 + 4 * i], "big") for i in range(rank)]
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * rank).reshape(dims)


images = read_idx(args.images).astype(np.float32)[..., None]
labels = read_idx(args.labels).astype(np.int32)
images = (images / 255.0 - 0.1307) / 0.3081

L = tf.keras.layers


def relu_conv_bn(x, channels, stride):
    x = L.ReLU()(x)
    x = L.Conv2D(channels, 3, strides=stride, padding="same", use_bias=False)(x)
    return L.BatchNormalization(momentum=0.9, epsilon=1e-5)(x)


def factorized_reduce(x, channels):
    r = L.ReLU()(x)
    a = L.Conv2D(channels // 2, 1, strides=2, use_bias=False)(r)
    shifted = L.ZeroPadding2D(((0, 1), (0, 1)))(L.Cropping2D(((1, 0), (1, 0)))(r))
    b = L.Conv2D(channels - channels // 2, 1, strides=2, use_bias=False)(shifted)
    return L.BatchNormalization(momentum=0.9, epsilon=1e-5)(L.Concatenate()([a, b]))


# stem 3×3/16 + BN; blocks (3, 16), (3, 32, stride 2), (3, 64, stride 2, skip), (3, 64, stride 2, skip)
inputs = L.Input((28, 28, 1))
x = L.Conv2D(16, 3, padding="same", use_bias=False)(inputs)
x = L.BatchNormalization(momentum=0.9, epsilon=1e-5)(x)
x = relu_conv_bn(x, 16, 1)
x = relu_conv_bn(x, 32, 2)
for channels in (64, 64):
    x = L.Add()([relu_conv_bn(x, channels, 2), factorized_reduce(x, channels)])
x = L.GlobalAveragePooling2D()(L.ReLU()(x))
outputs = L.Dense(10)(x)
model = tf.keras.Model(inputs, outputs)
optimizer = tf.keras.optimizers.SGD(learning_rate=0.05, momentum=0.9)
loss_fn = tf.keras.losses.SparseCategoricalCrossentropy(from_logits=True)


@tf.function
def train_step(x, y):
    with tf.GradientTape() as tape:
        loss = loss_fn(y, model(x, training=True))
    grads = tape.gradient(loss, model.trainable_variables)
    grads, _ = tf.clip_by_global_norm(grads, 5.0)
    optimizer.apply_gradients(zip(grads, model.trainable_variables))
    return loss


batch = args.batch
position = 0


def run(steps):
    global position
    start = time.perf_counter()
    cpu0 = time.process_time()
    for _ in range(steps):
        if position + batch > len(images):
            position = 0
        x = images[position : position + batch]
        y = labels[position : position + batch]
        position += batch
        loss = train_step(x, y)
    float(loss)
    wall = time.perf_counter() - start
    return {
        "imagesPerSecond": steps * batch / wall,
        "wallMs": wall * 1000,
        "cpuMs": (time.process_time() - cpu0) * 1000,
    }


run(3)  # trace and warm up
trainable = int(sum(np.prod(v.shape) for v in model.trainable_variables))
print(json.dumps({"ready": True, "params": trainable, "tensorflow": tf.__version__}), flush=True)
for line in sys.stdin:
    parts = line.split()
    if not parts or parts[0] == "quit":
        break
    if parts[0] == "round":
        print(json.dumps(run(int(parts[1]))), flush=True)
