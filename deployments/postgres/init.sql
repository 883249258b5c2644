-- Run once by the postgres image when its volume is empty: the Prefect server uses the
-- database named by POSTGRES_DB (prefect); the MLflow tracking server gets its own.
CREATE DATABASE mlflow;
